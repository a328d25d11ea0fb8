//! Text from outside (provider error bodies, their `error_description`, what a caller typed)
//! as it may appear in a message: one line, printable, and short.

/// At most `max_chars` characters of `text` on one line: control characters become spaces,
/// runs of whitespace one space, and a cut is marked with `…`.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        let needed = 1 + usize::from(pending_space);
        if chars + needed > max_chars {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
        chars += needed;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_one_short_printable_line() {
        assert_eq!(excerpt("  access\u{0}denied\r\n\tby   the admin ", 100), "access denied by the admin");
        assert_eq!(excerpt(&"x".repeat(50_000), 10), format!("{}…", "x".repeat(10)));
        assert_eq!(excerpt("ünïcödé wörds", 7), "ünïcödé…");
        assert_eq!(excerpt("", 5), "");
    }
}
