//! One money format for every amount a person reads (the dashboard's JS
//! implements the same rule; for users: docs/cli.md#money).
//!
//! Amounts shown together form a *set* (a table column with its total, the
//! spent and limit of one budget line); a lone amount is a set of one. Every
//! amount of a set has the same number of decimals `d`: the smallest `d`
//! from 2 to 6 at which every non-zero amount shows at least two significant
//! digits and amounts that differ do not print the same. A non-zero amount
//! still zero at 6 decimals prints `<$0.000001`, so nothing spent looks free.
//!
//! Rounding is decimal, half away from zero, on the shortest text that reads
//! back as the same `f64` (`12.345` rounds to `12.35`, as a person expects,
//! though the binary value is a hair below it).

/// Fewest and most decimals an amount is shown with.
const MIN_DECIMALS: usize = 2;
const MAX_DECIMALS: usize = 6;

/// The decimals of one set of amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoneySet {
    decimals: usize,
}

impl MoneySet {
    /// The decimals `amounts` need to be read together (see the module doc).
    pub fn of(amounts: impl IntoIterator<Item = f64>) -> MoneySet {
        let amounts: Vec<f64> = amounts.into_iter().filter(|a| a.is_finite()).collect();
        // Amounts are "different" when they differ at the finest precision
        // shown: float noise (0.1 + 0.2 against 0.3) is not a difference.
        let finest: Vec<Rounded> = amounts
            .iter()
            .map(|&a| Rounded::of(a, MAX_DECIMALS))
            .collect();
        let decimals = (MIN_DECIMALS..=MAX_DECIMALS)
            .find(|&d| {
                let shown: Vec<Rounded> = amounts.iter().map(|&a| Rounded::of(a, d)).collect();
                let significant = amounts
                    .iter()
                    .zip(&shown)
                    .all(|(&a, r)| a == 0.0 || r.significant_digits() >= 2);
                let mut seen = std::collections::HashMap::new();
                let distinct = shown
                    .iter()
                    .zip(&finest)
                    .all(|(text, fine)| seen.entry(text).or_insert(fine) == &fine);
                significant && distinct
            })
            .unwrap_or(MAX_DECIMALS);
        MoneySet { decimals }
    }

    /// `amount` with this set's decimals: `$1,234.57`, `-$0.50`, `$0.000`,
    /// `<$0.000001`.
    pub fn show(&self, amount: f64) -> String {
        if !amount.is_finite() {
            return format!("${amount}");
        }
        let rounded = Rounded::of(amount, self.decimals);
        if rounded.is_zero() && amount != 0.0 {
            let tiny = format!("$0.{}1", "0".repeat(MAX_DECIMALS - 1));
            return match amount < 0.0 {
                true => format!(">-{tiny}"),
                false => format!("<{tiny}"),
            };
        }
        let sign = if rounded.negative && !rounded.is_zero() {
            "-"
        } else {
            ""
        };
        let (int, frac) = rounded
            .digits
            .split_at(rounded.digits.len() - self.decimals);
        format!("{sign}${}.{frac}", thousands(int))
    }

    /// Every amount of `amounts`, as one set.
    pub fn show_all(amounts: &[f64]) -> Vec<String> {
        let set = MoneySet::of(amounts.iter().copied());
        amounts.iter().map(|&a| set.show(a)).collect()
    }
}

/// A lone amount: a set of one.
pub fn usd(amount: f64) -> String {
    MoneySet::of([amount]).show(amount)
}

/// An amount rounded to a number of decimals: its magnitude's digits, the
/// integer part first (at least one digit), the last `decimals` of them the
/// fraction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Rounded {
    negative: bool,
    digits: String,
}

impl Rounded {
    fn of(amount: f64, decimals: usize) -> Rounded {
        // Display of an f64 is its shortest round-trip text, never exponent form.
        let text = format!("{}", amount.abs());
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let mut digits: Vec<u8> = int.bytes().map(|b| b - b'0').collect();
        let frac: Vec<u8> = frac.bytes().map(|b| b - b'0').collect();
        digits.extend((0..decimals).map(|i| frac.get(i).copied().unwrap_or(0)));
        if frac.get(decimals).is_some_and(|&next| next >= 5) {
            round_up(&mut digits);
        }
        Rounded::from_digits(amount < 0.0, digits, decimals)
    }

    fn from_digits(negative: bool, mut digits: Vec<u8>, decimals: usize) -> Rounded {
        // Keep one integer digit at least, and no more leading zeros.
        while digits.len() > decimals + 1 && digits[0] == 0 {
            digits.remove(0);
        }
        while digits.len() < decimals + 1 {
            digits.insert(0, 0);
        }
        Rounded {
            negative,
            digits: digits.iter().map(|d| char::from(b'0' + d)).collect(),
        }
    }

    fn is_zero(&self) -> bool {
        self.digits.bytes().all(|b| b == b'0')
    }

    fn significant_digits(&self) -> usize {
        self.digits.trim_start_matches('0').len()
    }
}

/// Adds one unit in the last place, carrying (`9.99` → `10.00`).
fn round_up(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, 1);
}

/// `1234567` → `1,234,567`.
fn thousands(int: &str) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_examples_of_the_rule() {
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(usd(0.0126), "$0.013");
        assert_eq!(usd(0.6), "$0.60");
        assert_eq!(
            MoneySet::show_all(&[0.0126, 0.6, 12.3]),
            ["$0.013", "$0.600", "$12.300"]
        );
        assert_eq!(
            MoneySet::show_all(&[0.0101, 0.0104]),
            ["$0.0101", "$0.0104"]
        );
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(MoneySet::show_all(&[0.0, 0.0126]), ["$0.000", "$0.013"]);
    }

    #[test]
    fn separators_signs_and_the_smallest_amounts() {
        assert_eq!(usd(1234.567), "$1,234.57");
        assert_eq!(usd(1_234_567.0), "$1,234,567.00");
        assert_eq!(usd(-0.5), "-$0.50");
        assert_eq!(usd(0.999), "$1.00");
        assert_eq!(usd(9.995), "$10.00", "half away from zero");
        assert_eq!(usd(-9.995), "-$10.00");
        assert_eq!(usd(0.0000004), "<$0.000001");
        assert_eq!(usd(-0.0000004), ">-$0.000001");
        assert_eq!(usd(0.0000015), "$0.000002");
        assert_eq!(usd(1e-300), "<$0.000001");
        // A total that is float noise away from a row is not "different".
        assert_eq!(MoneySet::of([0.1 + 0.2, 0.3]).show(0.3), "$0.30");
    }

    /// The amounts of a set are in the cents-to-thousands range of real
    /// spend, and below a cent, where precision matters most.
    fn amount() -> impl Strategy<Value = f64> {
        prop_oneof![0.0..0.01f64, 0.0..10.0f64, 0.0..10_000.0f64, Just(0.0)]
    }

    fn decimals_of(text: &str) -> usize {
        text.rsplit_once('.').map_or(0, |(_, frac)| frac.len())
    }

    proptest! {
        #[test]
        fn different_amounts_never_print_the_same(set in prop::collection::vec(amount(), 1..8)) {
            let shown = MoneySet::show_all(&set);
            for (i, a) in set.iter().enumerate() {
                for (j, b) in set.iter().enumerate() {
                    if (a - b).abs() >= 1e-6 {
                        prop_assert_ne!(&shown[i], &shown[j], "{} and {}", a, b);
                    }
                }
            }
        }

        #[test]
        fn every_non_zero_amount_has_two_significant_digits(
            set in prop::collection::vec(amount(), 1..8)
        ) {
            for (a, text) in set.iter().zip(MoneySet::show_all(&set)) {
                if *a >= 1e-5 {
                    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
                    prop_assert!(digits.trim_start_matches('0').len() >= 2, "{} as {}", a, text);
                }
                if *a != 0.0 {
                    prop_assert!(text != MoneySet::of([0.0]).show(0.0), "{} looks free", a);
                    prop_assert!(!text.trim_start_matches(['<', '$', '0', '.']).is_empty(), "{} as {}", a, text);
                }
            }
        }

        #[test]
        fn all_amounts_of_a_set_have_the_same_decimals(set in prop::collection::vec(amount(), 1..8)) {
            let shown = MoneySet::show_all(&set);
            let first = decimals_of(&shown[0]);
            prop_assert!((MIN_DECIMALS..=MAX_DECIMALS).contains(&first));
            for text in &shown {
                prop_assert_eq!(decimals_of(text), first, "{:?}", shown);
            }
        }

        #[test]
        fn the_shown_amount_is_the_amount_rounded(a in amount(), d in MIN_DECIMALS..=MAX_DECIMALS) {
            let text = MoneySet { decimals: d }.show(a);
            if let Some(number) = text.strip_prefix('$') {
                let value: f64 = number.replace(',', "").parse().unwrap();
                prop_assert!((value - a).abs() <= 0.5 * 10f64.powi(-(d as i32)) + 1e-9, "{} as {}", a, text);
            }
        }
    }
}
