//! States of the park office's patrols and of the threads (findings, feedback) they hold.

crate::domain::state::states! {
    /// Where a thread or patrol is in its life: `open` (waiting for the enterprise, or for the
    /// office's first word on feedback), `answered` (the other side answered; the office decides),
    /// `closed`. A reopened finding is `open` again.
    pub enum ThreadStatus {
        Open => "open",
        Answered => "answered",
        Closed => "closed",
    }
}
