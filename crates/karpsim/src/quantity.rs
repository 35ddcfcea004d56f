//! Kubernetes quantities (`resource.Quantity`), parsed exactly.
//!
//! A quantity is `<sign><digits>[.<digits>]<suffix>` where the suffix is a binary SI suffix
//! (`Ki Mi Gi Ti Pi Ei`), a decimal SI suffix (`n u m "" k M G T P E`) or a decimal exponent (`e3`, `E-2`).
//! The value is held as an exact rational until it is converted to integer units; conversion rounds
//! **up**, as `Quantity.Value()` and `Quantity.MilliValue()` do in Kubernetes.

use crate::error::{Error, Result};
use std::fmt;

/// An exact quantity: `mantissa × 10^exp10 × 2^exp2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    mantissa: i128,
    exp10: i32,
    exp2: u32,
}

const MAX_DIGITS: usize = 30;

fn err(value: &str, reason: &str) -> Error {
    Error::Quantity { value: value.to_string(), reason: reason.to_string() }
}

impl Quantity {
    /// Parse a quantity string such as `"100m"`, `"1.5"`, `"2Gi"`, `"500M"`, `"1e3"`, `"0.5Ki"`.
    ///
    /// ```
    /// use karpsim::quantity::Quantity;
    /// assert_eq!(Quantity::parse("100m").unwrap().to_milli().unwrap(), 100);
    /// assert_eq!(Quantity::parse("0.5Ki").unwrap().to_units().unwrap(), 512);
    /// assert!(Quantity::parse("12 cores").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Quantity> {
        let s = input.trim();
        if s.is_empty() {
            return Err(err(input, "empty"));
        }
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut negative = false;
        if bytes[0] == b'+' || bytes[0] == b'-' {
            negative = bytes[0] == b'-';
            i = 1;
        }
        let mut mantissa: i128 = 0;
        let mut digits = 0usize;
        let mut frac_digits = 0i32;
        let mut seen_dot = false;
        let mut any_digit = false;
        while i < bytes.len() {
            let c = bytes[i];
            if c.is_ascii_digit() {
                any_digit = true;
                if digits > 0 || c != b'0' {
                    digits += 1;
                }
                if digits > MAX_DIGITS {
                    return Err(err(input, "too many digits"));
                }
                mantissa = mantissa * 10 + i128::from(c - b'0');
                if seen_dot {
                    frac_digits += 1;
                }
            } else if c == b'.' && !seen_dot {
                seen_dot = true;
            } else {
                break;
            }
            i += 1;
        }
        if !any_digit {
            return Err(err(input, "expected a number"));
        }
        let suffix = &s[i..];
        let (exp10, exp2) = match suffix {
            "" => (0, 0),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            _ if suffix.starts_with('e') || suffix.starts_with('E') => {
                let e: i32 = suffix[1..]
                    .parse()
                    .map_err(|_| err(input, "invalid suffix (expected Ki, Mi, Gi, m, k, M, G, or an exponent like e3)"))?;
                if !(-40..=40).contains(&e) {
                    return Err(err(input, "exponent out of range"));
                }
                (e, 0)
            }
            _ => return Err(err(input, "invalid suffix (expected Ki, Mi, Gi, m, k, M, G, or an exponent like e3)")),
        };
        if negative {
            mantissa = -mantissa;
        }
        Ok(Quantity { mantissa, exp10: exp10 - frac_digits, exp2 })
    }

    /// Build a quantity from a whole number of units.
    pub fn from_units(n: i64) -> Quantity {
        Quantity { mantissa: i128::from(n), exp10: 0, exp2: 0 }
    }

    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// Value in whole units, rounded up (`Quantity.Value()`).
    pub fn to_units(&self) -> Result<i64> {
        self.scaled(0)
    }

    /// Value in thousandths, rounded up (`Quantity.MilliValue()`).
    pub fn to_milli(&self) -> Result<i64> {
        self.scaled(3)
    }

    fn scaled(&self, scale: i32) -> Result<i64> {
        let overflow = || err(&self.to_string(), "out of range");
        let mut n = self.mantissa;
        for _ in 0..self.exp2 {
            n = n.checked_mul(2).ok_or_else(overflow)?;
        }
        let e = self.exp10 + scale;
        if e >= 0 {
            for _ in 0..e {
                n = n.checked_mul(10).ok_or_else(overflow)?;
            }
        } else {
            let mut d: i128 = 1;
            for _ in 0..(-e) {
                d = match d.checked_mul(10) {
                    Some(d) => d,
                    // Dividing by more than 10^38 leaves at most a rounding step.
                    None => return Ok(if n > 0 { 1 } else { 0 }),
                };
            }
            // ceiling division (towards +infinity)
            let q = n.div_euclid(d);
            let r = n.rem_euclid(d);
            n = if r > 0 { q + 1 } else { q };
        }
        i64::try_from(n).map_err(|_| overflow())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = match self.exp2 {
            0 => String::new(),
            10 => "Ki".into(),
            20 => "Mi".into(),
            30 => "Gi".into(),
            40 => "Ti".into(),
            50 => "Pi".into(),
            _ => "Ei".into(),
        };
        if self.exp10 == 0 {
            write!(f, "{}{}", self.mantissa, suffix)
        } else {
            write!(f, "{}e{}{}", self.mantissa, self.exp10, suffix)
        }
    }
}

/// Format a CPU amount in millicores the way Kubernetes prints it: whole cores when exact, else `Nm`.
pub fn format_cpu_milli(m: i64) -> String {
    CpuMilli(m).to_string()
}

/// Format a byte count with the largest binary suffix that divides it exactly (`6903Mi`, `17Gi`).
pub fn format_bytes(b: i64) -> String {
    Bytes(b).to_string()
}

/// [`format_cpu_milli`] as a `Display`, to write a quantity without a `String` of its own (result
/// serialisation writes thousands of them).
#[derive(Debug, Clone, Copy)]
pub struct CpuMilli(pub i64);

impl fmt::Display for CpuMilli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        if m % 1000 == 0 { write!(f, "{}", m / 1000) } else { write!(f, "{m}m") }
    }
}

/// [`format_bytes`] as a `Display`.
#[derive(Debug, Clone, Copy)]
pub struct Bytes(pub i64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b == 0 {
            return f.write_str("0");
        }
        const SUFFIXES: [&str; 6] = ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"];
        for (i, s) in SUFFIXES.iter().enumerate() {
            let unit: i64 = 1 << (10 * (6 - i));
            if b % unit == 0 {
                return write!(f, "{}{}", b / unit, s);
            }
        }
        write!(f, "{b}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milli(s: &str) -> i64 {
        Quantity::parse(s).unwrap().to_milli().unwrap()
    }
    fn units(s: &str) -> i64 {
        Quantity::parse(s).unwrap().to_units().unwrap()
    }

    #[test]
    fn parses_the_forms_kubernetes_accepts() {
        assert_eq!(milli("100m"), 100);
        assert_eq!(milli("1.5"), 1500);
        assert_eq!(milli("2"), 2000);
        assert_eq!(milli("1e3"), 1_000_000);
        assert_eq!(milli(".5"), 500);
        assert_eq!(milli("+1"), 1000);
        assert_eq!(units("2Gi"), 2 << 30);
        assert_eq!(units("500M"), 500_000_000);
        assert_eq!(units("0.5Ki"), 512);
        assert_eq!(units("1E2"), 100);
        assert_eq!(units("1.5Gi"), 3 << 29);
        assert_eq!(units("128974848"), 128_974_848);
        assert_eq!(units("129e6"), 129_000_000);
        assert_eq!(units("123Mi"), 123 << 20);
        assert_eq!(units("1k"), 1000);
        assert_eq!(milli("250u"), 1); // 0.00025 cores rounds up to 1m
        assert_eq!(units("0.1"), 1); // fractional bytes round up
        assert_eq!(units("-1"), -1);
        assert!(Quantity::parse("-1").unwrap().is_negative());
    }

    #[test]
    fn rejects_malformed_quantities() {
        for bad in ["", "abc", "1Gb", "1 Gi", "1.2.3", "Gi", "1e", "1e99", "1ki", "--1", "1iB"] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} should not parse");
        }
        assert!(Quantity::parse("1234567890123456789012345678901234").is_err());
        assert!(Quantity::parse("100Ei").unwrap().to_milli().is_err(), "overflow is an error");
    }

    #[test]
    fn formats_like_kubernetes() {
        assert_eq!(format_cpu_milli(1930), "1930m");
        assert_eq!(format_cpu_milli(4000), "4");
        assert_eq!(format_bytes(6903 << 20), "6903Mi");
        assert_eq!(format_bytes(17 << 30), "17Gi");
        assert_eq!(format_bytes(1000), "1000");
    }
}
