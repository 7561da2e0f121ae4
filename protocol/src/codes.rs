//! Parent codes (REQ-ACC-2): long enough to resist guessing, typed without ambiguity. Shared so
//! the app can check what a parent types exactly as the server will.

/// 31 symbols with no 0/O, 1/I/L look-alikes; 5 bits each.
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// 14 symbols: 14 × log2(31) ≈ 69 bits (≥ 60 required).
pub const CODE_LEN: usize = 14;
/// How long an issued code can be redeemed.
pub const CODE_VALID_DAYS: i64 = 14;
/// Parents per pupil without an admin's approval (REQ-ACC-3).
pub const MAX_PARENTS_PER_PUPIL: usize = 2;

/// Makes a code from random bytes (one per symbol, rejection-sampled to stay uniform), grouped
/// for reading aloud: `ABCD-EFGH-JKMN-PQ`. Returns `None` if the bytes ran out.
pub fn from_random(bytes: &[u8]) -> Option<String> {
    // 248 = 8 × 31: bytes below it map uniformly onto the alphabet.
    let symbols: Vec<u8> = bytes
        .iter()
        .filter(|b| **b < 248)
        .map(|b| ALPHABET[(*b % 31) as usize])
        .take(CODE_LEN)
        .collect();
    (symbols.len() == CODE_LEN).then(|| group(&symbols))
}

fn group(symbols: &[u8]) -> String {
    symbols
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// Reads what a person typed: case, spaces and dashes do not matter; a look-alike (0, O, 1, I, L)
/// is refused with a message saying so, never guessed at.
pub fn normalize(typed: &str) -> Result<String, String> {
    let symbols: Vec<u8> = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase() as u8)
        .collect();
    if symbols.len() != CODE_LEN {
        return Err(format!("a parent code has {CODE_LEN} letters and digits"));
    }
    if let Some(bad) = symbols.iter().find(|s| !ALPHABET.contains(s)) {
        return Err(format!(
            "{:?} is never used in parent codes (there is no 0, O, 1, I or L)",
            *bad as char
        ));
    }
    Ok(group(&symbols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_at_least_sixty_bits_without_look_alikes() {
        assert!((CODE_LEN as f64) * 31f64.log2() >= 60.0);
        for bad in b"01OIL" {
            assert!(!ALPHABET.contains(bad));
        }
        let code = from_random(&(0u8..=255).collect::<Vec<_>>()).unwrap();
        assert_eq!(code.len(), CODE_LEN + 3);
        assert_eq!(normalize(&code).unwrap(), code);
    }

    #[test]
    fn typing_is_forgiving_about_case_spaces_and_dashes_but_not_look_alikes() {
        assert_eq!(normalize("abcd efgh jkmn pq").unwrap(), "ABCD-EFGH-JKMN-PQ");
        assert!(normalize("ABCD-EFGH-JKMN-P0")
            .unwrap_err()
            .contains("no 0, O, 1, I or L"));
        assert!(normalize("ABCD").is_err());
    }

    #[test]
    fn biased_bytes_are_skipped_so_symbols_stay_uniform() {
        assert_eq!(from_random(&[250; 40]), None);
    }
}
