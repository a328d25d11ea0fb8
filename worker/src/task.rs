//! Background tasks bound to their owner's lifetime.

use tokio::task::JoinHandle;

/// A spawned task that is aborted when this handle is dropped, however its owner ends (returns,
/// fails, or is itself dropped mid-await), so no work outlives the attempt it belongs to.
pub(crate) struct AbortOnDrop<T>(pub(crate) JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
