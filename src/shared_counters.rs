//! Request counters shared by every child and thread: one anonymous shared mapping created by the
//! parent during its first configuration pass, inherited by every child it forks, and kept for the
//! life of the process (the module is pinned in memory), so counts survive graceful restarts and
//! old and new generations add to the same totals. Each model name gets a fixed slot of 64-bit
//! atomic counters; slots are claimed only by the parent, while it reads its configuration.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use classify_serve::counters::{
    bucket_index, status_index, AnswerTally, Histogram, ModelCounters, ANSWER_KINDS, BUCKETS,
    HISTOGRAM_BUCKETS, STATUSES,
};

/// Most model names counted; later names share the last slot, "(other models)".
pub(crate) const MAX_SLOTS: usize = 64;
const NAME_WORDS: usize = 8;
const STATUS_WORDS: usize = STATUSES.len();
const BUCKET_WORDS: usize = BUCKETS.len() + 1;
// Slot layout in 64-bit words.
const NAME_LEN: usize = 0;
const NAME: usize = NAME_LEN + 1;
const REQUESTS: usize = NAME + NAME_WORDS;
const DURATION_BUCKETS: usize = REQUESTS + STATUS_WORDS;
const DURATION_SUM_NS: usize = DURATION_BUCKETS + BUCKET_WORDS;
const ANSWERS: usize = DURATION_SUM_NS + 1;
const LABELS_IN_SETS: usize = ANSWERS + ANSWER_KINDS.len();
const LOADS: usize = LABELS_IN_SETS + 1;
const LAST_LOAD_NS: usize = LOADS + 1;
/// A hash of the class names the label counters count, so that a model with other classes
/// starts them afresh (see `bind_classes`).
const CLASSES_HASH: usize = LAST_LOAD_NS + 1;
/// Answers per class index; the last word counts every index past the others.
pub(crate) const LABEL_WORDS: usize = 256;
const LABELS: usize = CLASSES_HASH + 1;
/// A histogram: its buckets, then its sum (in millionths) and its count.
const HISTOGRAM_WORDS: usize = HISTOGRAM_BUCKETS + 2;
const OOV_RATIO: usize = LABELS + LABEL_WORDS;
const LENGTH: usize = OOV_RATIO + HISTOGRAM_WORDS;
const CONFIDENCE: usize = LENGTH + HISTOGRAM_WORDS;
const SLOT_WORDS: usize = CONFIDENCE + HISTOGRAM_WORDS;
/// Histogram sums are kept as whole millionths.
const SUM_SCALE: f64 = 1e6;
/// Word 0 of the mapping counts claimed slots; slots follow.
const HEADER_WORDS: usize = 1;
const TOTAL_WORDS: usize = HEADER_WORDS + MAX_SLOTS * SLOT_WORDS;

/// The shared counters: `TOTAL_WORDS` atomic words.
struct Shared {
    words: &'static [AtomicU64],
}

impl Shared {
    fn create() -> Option<Shared> {
        crate::apache::os::shared_words(TOTAL_WORDS).map(|words| Shared { words })
    }

    fn word(&self, index: usize) -> &AtomicU64 {
        &self.words[index]
    }

    fn slot_word(&self, slot: usize, offset: usize) -> &AtomicU64 {
        self.word(HEADER_WORDS + slot * SLOT_WORDS + offset)
    }
}

/// Created by the parent's first `slot_for`, before any child exists; children inherit it, so on
/// the request path this is a lock-free read.
static SHARED: OnceLock<Option<Shared>> = OnceLock::new();

fn shared() -> Option<&'static Shared> {
    SHARED.get_or_init(Shared::create).as_ref()
}

/// The counter slot for a model name, claimed on first use. Called by the parent while it reads
/// its configuration (children inherit the slot numbers in their configuration).
pub(crate) fn slot_for(name: &str) -> Option<usize> {
    let shared = shared()?;
    let claimed = shared.word(0).load(Ordering::Relaxed) as usize;
    for slot in 0..claimed.min(MAX_SLOTS) {
        if slot_name(shared, slot) == name {
            return Some(slot);
        }
    }
    if claimed >= MAX_SLOTS {
        return Some(MAX_SLOTS - 1);
    }
    let slot = claimed;
    let stored = if slot == MAX_SLOTS - 1 { "(other models)" } else { name };
    let bytes = stored.as_bytes();
    let length = bytes.len().min(NAME_WORDS * 8);
    for (index, chunk) in bytes[..length].chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        shared.slot_word(slot, NAME + index).store(u64::from_le_bytes(word), Ordering::Relaxed);
    }
    shared.slot_word(slot, NAME_LEN).store(length as u64, Ordering::Relaxed);
    shared.word(0).store(claimed as u64 + 1, Ordering::Release);
    Some(slot)
}

fn slot_name(shared: &Shared, slot: usize) -> String {
    let length =
        (shared.slot_word(slot, NAME_LEN).load(Ordering::Relaxed) as usize).min(NAME_WORDS * 8);
    let mut bytes = Vec::with_capacity(NAME_WORDS * 8);
    for index in 0..NAME_WORDS {
        bytes.extend_from_slice(
            &shared.slot_word(slot, NAME + index).load(Ordering::Relaxed).to_le_bytes(),
        );
    }
    bytes.truncate(length);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Counts one answered request and the texts it answered.
pub(crate) fn record_request(slot: usize, status: u16, seconds: f64, answers: &AnswerTally) {
    let Some(shared) = shared() else { return };
    shared.slot_word(slot, REQUESTS + status_index(status)).fetch_add(1, Ordering::Relaxed);
    shared
        .slot_word(slot, DURATION_BUCKETS + bucket_index(seconds))
        .fetch_add(1, Ordering::Relaxed);
    shared.slot_word(slot, DURATION_SUM_NS).fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
    for (kind, &count) in answers.by_kind.iter().enumerate() {
        if count > 0 {
            shared.slot_word(slot, ANSWERS + kind).fetch_add(count, Ordering::Relaxed);
        }
    }
    if answers.labels_in_sets > 0 {
        shared.slot_word(slot, LABELS_IN_SETS).fetch_add(answers.labels_in_sets, Ordering::Relaxed);
    }
    for &label in &answers.labels {
        let word = (label as usize).min(LABEL_WORDS - 1);
        shared.slot_word(slot, LABELS + word).fetch_add(1, Ordering::Relaxed);
    }
    for (offset, histogram) in [
        (OOV_RATIO, &answers.oov_ratio),
        (LENGTH, &answers.length),
        (CONFIDENCE, &answers.confidence),
    ] {
        if histogram.count == 0 {
            continue;
        }
        for (bucket, &count) in histogram.buckets.iter().enumerate() {
            if count > 0 {
                shared.slot_word(slot, offset + bucket).fetch_add(count, Ordering::Relaxed);
            }
        }
        let sum = (histogram.sum * SUM_SCALE).round() as u64;
        shared.slot_word(slot, offset + HISTOGRAM_BUCKETS).fetch_add(sum, Ordering::Relaxed);
        shared
            .slot_word(slot, offset + HISTOGRAM_BUCKETS + 1)
            .fetch_add(histogram.count, Ordering::Relaxed);
    }
}

/// Counts one model load (in the parent, outside the start-up dry run).
pub(crate) fn record_load(slot: usize, seconds: f64) {
    let Some(shared) = shared() else { return };
    shared.slot_word(slot, LOADS).fetch_add(1, Ordering::Relaxed);
    shared.slot_word(slot, LAST_LOAD_NS).store((seconds * 1e9) as u64, Ordering::Relaxed);
}

/// Ties a slot's label counters to a model's classes (in the parent, at configuration): when the
/// classes differ from those counted so far (a new model under the same name), the label counts
/// start again from zero, which Prometheus reads as a counter reset, rather than count one
/// model's classes under another's names.
pub(crate) fn bind_classes(slot: usize, classes: &[String]) {
    let Some(shared) = shared() else { return };
    // FNV-1a over the names, each followed by a 0 byte; 0 is kept for "none yet".
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for name in classes {
        for &byte in name.as_bytes().iter().chain(&[0]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let hash = hash.max(1);
    let previous = shared.slot_word(slot, CLASSES_HASH).swap(hash, Ordering::Relaxed);
    if previous != hash && previous != 0 {
        for word in 0..LABEL_WORDS {
            shared.slot_word(slot, LABELS + word).store(0, Ordering::Relaxed);
        }
    }
}

/// Every claimed slot's counters, summed over all children and threads.
pub(crate) fn snapshot() -> Vec<ModelCounters> {
    let Some(shared) = shared() else { return Vec::new() };
    let claimed = (shared.word(0).load(Ordering::Acquire) as usize).min(MAX_SLOTS);
    (0..claimed)
        .map(|slot| {
            let read = |offset: usize| shared.slot_word(slot, offset).load(Ordering::Relaxed);
            let mut counters =
                ModelCounters { model: slot_name(shared, slot), ..Default::default() };
            for (index, count) in counters.requests.iter_mut().enumerate() {
                *count = read(REQUESTS + index);
            }
            for (index, count) in counters.duration_buckets.iter_mut().enumerate() {
                *count = read(DURATION_BUCKETS + index);
            }
            counters.duration_sum_seconds = read(DURATION_SUM_NS) as f64 / 1e9;
            for (kind, count) in counters.answers.by_kind.iter_mut().enumerate() {
                *count = read(ANSWERS + kind);
            }
            counters.answers.labels_in_sets = read(LABELS_IN_SETS);
            counters.label_counts = (0..LABEL_WORDS).map(|word| read(LABELS + word)).collect();
            let histogram = |offset: usize| {
                let mut histogram = Histogram::default();
                for (bucket, count) in histogram.buckets.iter_mut().enumerate() {
                    *count = read(offset + bucket);
                }
                histogram.sum = read(offset + HISTOGRAM_BUCKETS) as f64 / SUM_SCALE;
                histogram.count = read(offset + HISTOGRAM_BUCKETS + 1);
                histogram
            };
            counters.answers.oov_ratio = histogram(OOV_RATIO);
            counters.answers.length = histogram(LENGTH);
            counters.answers.confidence = histogram(CONFIDENCE);
            counters.loads = read(LOADS);
            counters.last_load_seconds = read(LAST_LOAD_NS) as f64 / 1e9;
            counters
        })
        .collect()
}
