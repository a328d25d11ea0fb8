//! Pages from a provider answer that is not paginated (one document of the whole company).
//!
//! The answer is parsed as it downloads, on a blocking thread, and each record is appended to a
//! temporary file; pages are read back from that file while the rest still arrives. Memory stays
//! flat in the size of the company, merging starts with the first page instead of after the
//! download, and the total is known as soon as parsing ends, which runs far ahead of merging.
//! [`StreamedList`] does this for the usual shape of such answers, `{"employees": [...]}`.
//! When the answer says its `Content-Length`, the share of it parsed so far tells how many
//! records it likely holds, so a first sync's progress moves before the download ends.

use std::cell::Cell;
use std::io::{self, BufWriter, Read, Write};
use std::marker::PhantomData;
use std::rc::Rc;

use futures::{stream, TryStreamExt};
use serde::de::{DeserializeOwned, DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::sync::watch;

use super::{PageStream, ProviderError, RemotePage, RemoteRecord};

/// Hands each parsed record to the spool, with how many records the whole answer likely holds
/// when the parser can tell; fails once nobody reads the pages any more.
pub(super) type RecordSink<'s> = dyn FnMut(RemoteRecord, Option<usize>) -> Result<(), ProviderError> + 's;

/// How far the parser got.
#[derive(Debug, Clone, Default)]
struct Spooled {
    /// Records written and flushed, readable by the page reader.
    written: usize,
    /// The parser's latest estimate of the answer's records, while the total is unknown.
    estimated_total: Option<usize>,
    /// Set when parsing ends: `Ok` after the last record, or why it stopped.
    finished: Option<Result<(), ProviderError>>,
}

/// Runs `parse` on a blocking thread, feeding the records it produces into a spool, and answers
/// the pages of `page_size` records as they become available. A parse error ends the stream
/// after the pages parsed before it.
pub(super) fn spool_pages<'a, P>(page_size: usize, parse: P) -> Result<PageStream<'a>, ProviderError>
where
    P: FnOnce(&mut RecordSink<'_>) -> Result<(), ProviderError> + Send + 'static,
{
    let file = tempfile::NamedTempFile::new().map_err(spool_error)?;
    let reader = file.reopen().map_err(spool_error)?;
    // No name on disk from here on: the space returns as soon as both handles close, even after
    // a crash.
    let file = file.into_file();
    let (progress, watcher) = watch::channel(Spooled::default());
    tokio::task::spawn_blocking(move || write_spool(file, page_size, parse, progress));
    let lines = BufReader::new(tokio::fs::File::from_std(reader)).lines();
    let reading = Reading { lines, watcher, page_size: page_size.max(1), read: 0, done: false };
    Ok(Box::pin(stream::unfold(reading, |mut reading| async move {
        let page = reading.next_page().await?;
        Some((page, reading))
    })))
}

/// A provider answer that is one JSON object whose `key` holds the whole company as an array
/// (`{"employees": [...]}`), parsed one element at a time as it downloads.
pub struct StreamedList {
    /// Names the answer in errors ("custom report").
    pub what: &'static str,
    pub key: &'static str,
    pub page_size: usize,
}

impl StreamedList {
    /// Spools `response`, parsing each element of the list as `T` and turning it into a record
    /// with `into_record` (`None` skips it). A connection that drops mid-answer ends the pages
    /// with [`ProviderError::Unreachable`].
    pub fn spool<'a, T, F>(
        self,
        response: reqwest::Response,
        mut into_record: F,
    ) -> Result<PageStream<'a>, ProviderError>
    where
        T: DeserializeOwned,
        F: FnMut(T) -> Option<RemoteRecord> + Send + 'static,
    {
        let length = response.content_length();
        let download = tokio_util::io::StreamReader::new(response.bytes_stream().map_err(io::Error::other));
        let download = tokio_util::io::SyncIoBridge::new(download);
        let Self { what, key, page_size } = self;
        spool_pages(page_size, move |sink| {
            let taken = Rc::new(Cell::new(0));
            let counted = Counted { inner: io::BufReader::new(download), taken: Rc::clone(&taken) };
            let mut parser = serde_json::Deserializer::from_reader(counted);
            let mut records = 0;
            let mut each = |element: T| match into_record(element) {
                Some(record) => {
                    records += 1;
                    sink(record, length.and_then(|length| estimate_records(records, taken.get(), length)))
                }
                None => Ok(()),
            };
            let visitor = ListUnderKey { key, each: &mut each, element: PhantomData };
            let found = serde::Deserializer::deserialize_map(&mut parser, visitor).map_err(|e| {
                if e.is_io() {
                    ProviderError::Unreachable(format!("the {what} broke off: {e}"))
                } else {
                    ProviderError::BadResponse(format!("{what}: {e}"))
                }
            })?;
            if !found {
                return Err(ProviderError::BadResponse(format!("{what}: no '{key}' list")));
            }
            Ok(())
        })
    }
}

/// The records an answer of `length` bytes likely holds, when its first `taken` bytes held
/// `records`: never fewer than already read.
fn estimate_records(records: usize, taken: u64, length: u64) -> Option<usize> {
    if taken == 0 {
        return None;
    }
    let estimate = (records as u128 * u128::from(length)).div_ceil(u128::from(taken));
    Some(usize::try_from(estimate).unwrap_or(usize::MAX).max(records))
}

/// Counts the bytes the parser has taken. It sits above the buffer, so the count is exact, and
/// it lives on the parser's thread alone, so counting is a plain add.
struct Counted<R> {
    inner: R,
    taken: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.taken.set(self.taken.get() + read as u64);
        Ok(read)
    }
}

/// The answer's top level: hands each element of the list at `key` to `each` as it is parsed,
/// skips the rest. Answers whether the list was there.
struct ListUnderKey<'e, T, E> {
    key: &'static str,
    each: &'e mut E,
    element: PhantomData<T>,
}

impl<'de, T, E> Visitor<'de> for ListUnderKey<'_, T, E>
where
    T: DeserializeOwned,
    E: FnMut(T) -> Result<(), ProviderError>,
{
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an object with a '{}' list", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.key {
                map.next_value_seed(Elements { each: &mut *self.each, element: PhantomData::<T> })?;
                found = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// The list itself, one element at a time.
struct Elements<'e, T, E> {
    each: &'e mut E,
    element: PhantomData<T>,
}

impl<'de, T, E> DeserializeSeed<'de> for Elements<'_, T, E>
where
    T: DeserializeOwned,
    E: FnMut(T) -> Result<(), ProviderError>,
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T, E> Visitor<'de> for Elements<'_, T, E>
where
    T: DeserializeOwned,
    E: FnMut(T) -> Result<(), ProviderError>,
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.each)(element).map_err(A::Error::custom)?;
        }
        Ok(())
    }
}

fn write_spool<P>(file: std::fs::File, page_size: usize, parse: P, progress: watch::Sender<Spooled>)
where
    P: FnOnce(&mut RecordSink<'_>) -> Result<(), ProviderError>,
{
    let mut out = BufWriter::new(file);
    let mut written = 0;
    let mut estimated_total = None;
    let mut sink = |record: RemoteRecord, estimate: Option<usize>| -> Result<(), ProviderError> {
        serde_json::to_writer(&mut out, &record).map_err(|e| spool_error(e.into()))?;
        out.write_all(b"\n").map_err(spool_error)?;
        written += 1;
        estimated_total = estimate;
        if written % page_size.max(1) == 0 {
            out.flush().map_err(spool_error)?;
            if progress.send(Spooled { written, estimated_total, finished: None }).is_err() {
                return Err(ProviderError::Buffer("the sync stopped reading".into()));
            }
        }
        Ok(())
    };
    let parsed = parse(&mut sink);
    let flushed = out.flush().map_err(spool_error);
    let finished = parsed.and(flushed);
    if let Err(err) = &finished {
        tracing::debug!(error = %err, records = written, "stopped reading the provider's answer");
    }
    // Nobody listening means the sync has already stopped; there is nobody left to tell.
    let _ = progress.send(Spooled { written, estimated_total, finished: Some(finished) });
}

fn spool_error(err: io::Error) -> ProviderError {
    ProviderError::Buffer(format!("temporary file: {err}"))
}

/// The page reader's side of a spool.
struct Reading {
    lines: Lines<BufReader<tokio::fs::File>>,
    watcher: watch::Receiver<Spooled>,
    page_size: usize,
    read: usize,
    done: bool,
}

impl Reading {
    /// The next page once it is complete (or the answer ended), then the parse error if any.
    async fn next_page(&mut self) -> Option<Result<RemotePage, ProviderError>> {
        if self.done {
            return None;
        }
        // Wait for one record past the page, so that the last page is known to be the last.
        let wanted = self.read + self.page_size;
        let spooled = match self.watcher.wait_for(|s| s.written > wanted || s.finished.is_some()).await {
            Ok(spooled) => spooled.clone(),
            Err(_) => Spooled {
                written: self.read,
                estimated_total: None,
                finished: Some(Err(ProviderError::Buffer("the answer's parser stopped".into()))),
            },
        };
        let available = spooled.written - self.read;
        if available == 0 {
            self.done = true;
            return match spooled.finished {
                Some(Err(err)) => Some(Err(err)),
                _ => None,
            };
        }
        let count = available.min(self.page_size);
        let mut records = Vec::with_capacity(count);
        for _ in 0..count {
            match self.read_record().await {
                Ok(record) => records.push(record),
                Err(err) => {
                    self.done = true;
                    return Some(Err(err));
                }
            }
        }
        self.read += count;
        let complete = matches!(spooled.finished, Some(Ok(()))) && self.read == spooled.written;
        let total = matches!(spooled.finished, Some(Ok(()))).then_some(spooled.written);
        let estimated_total = spooled.estimated_total.filter(|_| total.is_none());
        Some(Ok(RemotePage { records, next_cursor: None, last: complete, total, estimated_total }))
    }

    async fn read_record(&mut self) -> Result<RemoteRecord, ProviderError> {
        let line = self.lines.next_line().await.map_err(spool_error)?;
        let line = line.ok_or_else(|| spool_error(io::ErrorKind::UnexpectedEof.into()))?;
        serde_json::from_str(&line).map_err(|e| spool_error(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use futures::StreamExt;

    use super::*;

    fn record(n: usize) -> RemoteRecord {
        RemoteRecord::new(n.to_string(), BTreeMap::from([("n".into(), format!("line\n{n}"))]))
    }

    async fn collect(page_size: usize, count: usize, fail: bool) -> Vec<Result<RemotePage, ProviderError>> {
        let pages = spool_pages(page_size, move |sink| {
            (0..count).try_for_each(|n| sink(record(n), Some(count)))?;
            if fail {
                return Err(ProviderError::Unreachable("cut off".into()));
            }
            Ok(())
        })
        .unwrap();
        pages.collect().await
    }

    #[tokio::test]
    async fn pages_come_back_in_order_and_only_the_last_is_last() {
        let pages = collect(3, 7, false).await;
        let pages: Vec<RemotePage> = pages.into_iter().map(Result::unwrap).collect();
        let sizes: Vec<usize> = pages.iter().map(|p| p.records.len()).collect();
        assert_eq!(sizes, [3, 3, 1]);
        assert_eq!(pages.iter().map(|p| p.last).collect::<Vec<_>>(), [false, false, true]);
        assert_eq!(pages[2].total, Some(7));
        let records: Vec<RemoteRecord> = pages.into_iter().flat_map(|p| p.records).collect();
        assert_eq!(records, (0..7).map(record).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn an_exact_multiple_of_the_page_size_ends_on_a_full_last_page() {
        let pages: Vec<RemotePage> = collect(2, 4, false).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(pages.len(), 2);
        assert!(pages[1].last && !pages[0].last);
    }

    #[tokio::test]
    async fn an_answer_cut_off_yields_what_arrived_then_the_error() {
        let pages = collect(2, 5, true).await;
        assert_eq!(pages.len(), 4);
        assert!(pages[..3].iter().all(|p| p.as_ref().is_ok_and(|p| !p.last && p.total.is_none())));
        assert_eq!(pages[3].as_ref().unwrap_err(), &ProviderError::Unreachable("cut off".into()));
    }

    #[tokio::test]
    async fn pages_read_before_the_end_carry_the_parsers_estimate() {
        let (resume, paused) = std::sync::mpsc::channel::<()>();
        let mut pages = spool_pages(2, move |sink| {
            (0..4).try_for_each(|n| sink(record(n), Some(5)))?;
            paused.recv().expect("the test resumes the parser");
            (4..5).try_for_each(|n| sink(record(n), Some(5)))
        })
        .unwrap();
        let first = pages.next().await.unwrap().unwrap();
        assert_eq!((first.total, first.estimated_total), (None, Some(5)));
        resume.send(()).unwrap();
        let rest: Vec<RemotePage> = pages.map(Result::unwrap).collect().await;
        assert!(rest.iter().all(|p| p.total == Some(5) && p.estimated_total.is_none()), "known at the end");
    }

    #[test]
    fn records_are_estimated_from_the_share_of_the_answer_parsed() {
        assert_eq!(estimate_records(250, 25_000, 100_000), Some(1_000));
        assert_eq!(estimate_records(1, 3, 10), Some(4), "rounds up");
        assert_eq!(estimate_records(500, 100_000, 90_000), Some(500), "never fewer than already read");
        assert_eq!(estimate_records(0, 0, 10), None);
    }

    #[tokio::test]
    async fn an_empty_answer_has_no_pages() {
        assert!(collect(2, 0, false).await.is_empty());
    }
}
