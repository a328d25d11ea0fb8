//! Email addresses as a directory keeps them: RFC 6531 (internationalised) addresses accepted,
//! and one key per mailbox for matching people, with the domain in its IDNA (ASCII) form so
//! `greta@bücher.example` and `greta@xn--bcher-kva.example` are one person.

/// The longest address SMTP carries (RFC 5321: 254 octets in a path of 256).
const MAX_ADDRESS_OCTETS: usize = 254;
const MAX_LOCAL_OCTETS: usize = 64;

/// Characters RFC 5322 allows in an unquoted local part, besides letters and digits; RFC 6531
/// adds every non-ASCII character.
const ATEXT_SYMBOLS: &str = "!#$%&'*+-/=?^_`{|}~";

/// The matching key of a valid address: the local part lower-cased, `@`, the domain in ASCII
/// (IDNA, which lower-cases it); `None` when the address is not one a mail server accepts.
pub fn email_key(address: &str) -> Option<String> {
    if address.len() > MAX_ADDRESS_OCTETS {
        return None;
    }
    let (local, domain) = address.rsplit_once('@')?;
    if !valid_local_part(local) {
        return None;
    }
    Some(format!("{}@{}", local.to_lowercase(), ascii_domain(domain)?))
}

/// A dot-atom: atoms of letters (any script), digits and the RFC 5322 symbols, joined by
/// single dots. Quoted local parts are legal but not something an HR system hands out.
fn valid_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= MAX_LOCAL_OCTETS
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_alphanumeric() || ATEXT_SYMBOLS.contains(c) || (!c.is_ascii() && !c.is_control()))
        })
}

/// The domain's IDNA form, when it is a host name with at least two labels.
fn ascii_domain(domain: &str) -> Option<String> {
    let ascii = idna::domain_to_ascii_strict(domain).ok()?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let host_name = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    host_name.then_some(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internationalised_addresses_are_accepted() {
        assert_eq!(email_key("greta.müller@example.com").as_deref(), Some("greta.müller@example.com"));
        assert_eq!(email_key("Greta.Müller@Bücher.Example").as_deref(), Some("greta.müller@xn--bcher-kva.example"));
        let chinese = email_key("用户@例子.广告").unwrap();
        assert!(chinese.starts_with("用户@xn--"), "{chinese}");
        assert_eq!(email_key("o'brien+hr@acme.co.uk").as_deref(), Some("o'brien+hr@acme.co.uk"));
    }

    #[test]
    fn one_mailbox_has_one_key_whatever_form_its_domain_takes() {
        assert_eq!(email_key("greta@bücher.example"), email_key("GRETA@xn--bcher-kva.example"));
    }

    #[test]
    fn what_no_mail_server_accepts_is_refused() {
        for bad in [
            "not-an-email",
            "@example.com",
            "greta@",
            "greta@localhost",
            "gre..ta@example.com",
            ".greta@example.com",
            "greta.@example.com",
            "gre ta@example.com",
            "greta@exa mple.com",
            "greta@-example.com",
            "greta@example..com",
            "a@b@example.com",
        ] {
            assert_eq!(email_key(bad), None, "{bad}");
        }
        assert_eq!(email_key(&format!("{}@example.com", "a".repeat(65))), None, "local part over 64 octets");
        assert_eq!(email_key(&format!("a@{}.com", "b".repeat(250))), None, "address over 254 octets");
    }
}
