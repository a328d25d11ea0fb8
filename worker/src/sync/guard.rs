//! The deactivation guard. A provider outage that answers 200 with an empty list, or a key that
//! lost permission to most people, looks to a complete pass exactly like everyone leaving. So a
//! pass that would deactivate everyone, or more than a share of the connection's active people,
//! holds those deactivations: they wait for an admin's `confirmDeactivations`, or for the next
//! complete pass to agree.

/// A pass deactivating fewer people than this is never held for its share alone: in a small
/// directory two leavers may well be a fifth of it.
pub const MIN_HELD: u64 = 10;

/// What a complete pass does with the people it would deactivate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deactivations {
    Apply,
    Hold,
}

/// `active`: the connection's active people before the pass; `leaving`: how many of them it
/// would deactivate; `max_share_percent`: the most it deactivates unasked; `previous_held`: the
/// connection's last complete pass held its deactivations.
pub fn judge(active: u64, leaving: u64, max_share_percent: u32, previous_held: bool) -> Deactivations {
    let everyone = leaving > 0 && leaving >= active;
    let too_many = leaving >= MIN_HELD && leaving * 100 > active * u64::from(max_share_percent);
    match (everyone || too_many, previous_held) {
        (false, _) => Deactivations::Apply,
        // Two complete passes in a row see the same exodus: the provider means it.
        (true, true) => Deactivations::Apply,
        (true, false) => Deactivations::Hold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Deactivations::{Apply, Hold};

    #[test]
    fn ordinary_leavers_are_deactivated() {
        assert_eq!(judge(1_039, 0, 20, false), Apply);
        assert_eq!(judge(1_039, 12, 20, false), Apply);
        assert_eq!(judge(1_000, 200, 20, false), Apply, "exactly the share is allowed");
        assert_eq!(judge(20, 9, 20, false), Apply, "a few people of a small directory");
    }

    #[test]
    fn an_exodus_is_held() {
        assert_eq!(judge(1_039, 1_038, 20, false), Hold, "the reported incident");
        assert_eq!(judge(1_000, 201, 20, false), Hold);
        assert_eq!(judge(3, 3, 20, false), Hold, "everyone, however few");
        assert_eq!(judge(1_000, 500, 60, false), Apply, "the share is the operator's to set");
    }

    #[test]
    fn the_next_pass_agreeing_applies_it() {
        assert_eq!(judge(1_039, 1_039, 20, true), Apply);
        assert_eq!(judge(1_039, 5, 20, true), Apply, "a pass back to normal applies its own few");
    }
}
