//! The pod queue (`scheduling/queue.go`; design §3.3).

use std::collections::VecDeque;

/// Pods in scheduling order; stops when a full pass made no progress.
#[derive(Debug, Default)]
pub struct Queue {
    pods: VecDeque<usize>,
    /// For each pod, the queue length right after it was last pushed back.
    last_len: Vec<Option<usize>>,
}

impl Queue {
    /// `order` must already be sorted (cpu desc, memory desc, creation asc, uid asc).
    pub fn new(order: Vec<usize>, n: usize) -> Queue {
        Queue { pods: order.into(), last_len: vec![None; n] }
    }

    /// The next pod, or `None` when the queue is empty or the head was last pushed when the queue had
    /// the same length as now (we cycled through every pod without progress).
    pub fn pop(&mut self) -> Option<usize> {
        let &p = self.pods.front()?;
        if self.last_len[p] == Some(self.pods.len()) {
            return None;
        }
        self.pods.pop_front()
    }

    pub fn push(&mut self, p: usize) {
        self.pods.push_back(p);
        self.last_len[p] = Some(self.pods.len());
    }
}
