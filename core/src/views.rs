//! Live views for UIs: a subscriber gets the whole view first, then only what changed
//! (inserted, updated, removed by id), delivered in order and never under a core lock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// One message to a view's subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewUpdate<T> {
    /// The whole view: always the first message.
    Snapshot(Vec<T>),
    /// What changed since the previous message.
    Changes {
        inserted: Vec<T>,
        updated: Vec<T>,
        removed: Vec<String>,
    },
}

impl<T> ViewUpdate<T> {
    /// The same update with each item converted (for the FFI records).
    pub fn map<U>(self, f: impl Fn(&T) -> U) -> ViewUpdate<U> {
        match self {
            ViewUpdate::Snapshot(items) => ViewUpdate::Snapshot(items.iter().map(&f).collect()),
            ViewUpdate::Changes {
                inserted,
                updated,
                removed,
            } => ViewUpdate::Changes {
                inserted: inserted.iter().map(&f).collect(),
                updated: updated.iter().map(&f).collect(),
                removed,
            },
        }
    }
}

/// Items of a view have a stable id.
pub trait Keyed {
    fn key(&self) -> String;
}

/// Remembers what a subscriber last saw, to tell it only the difference.
pub struct Differ<T> {
    last: BTreeMap<String, T>,
}

impl<T: Keyed + Clone + PartialEq> Differ<T> {
    /// Starts from `items`, returning the snapshot to send first.
    pub fn start(items: Vec<T>) -> (Self, ViewUpdate<T>) {
        let last = items.iter().map(|i| (i.key(), i.clone())).collect();
        (Differ { last }, ViewUpdate::Snapshot(items))
    }

    /// The changes from what was last sent to `items`; `None` when nothing changed.
    pub fn update(&mut self, items: Vec<T>) -> Option<ViewUpdate<T>> {
        let next: BTreeMap<String, T> = items.into_iter().map(|i| (i.key(), i)).collect();
        let mut inserted = Vec::new();
        let mut updated = Vec::new();
        for (k, v) in &next {
            match self.last.get(k) {
                None => inserted.push(v.clone()),
                Some(old) if old != v => updated.push(v.clone()),
                Some(_) => {}
            }
        }
        let removed: Vec<String> = self
            .last
            .keys()
            .filter(|k| !next.contains_key(*k))
            .cloned()
            .collect();
        self.last = next;
        if inserted.is_empty() && updated.is_empty() && removed.is_empty() {
            None
        } else {
            Some(ViewUpdate::Changes {
                inserted,
                updated,
                removed,
            })
        }
    }
}

/// Delivers a subscriber's messages one at a time and in order, without holding a lock while
/// app code runs: a callback that re-enters the core and causes another message just queues it.
pub struct Delivery<M> {
    state: Mutex<(VecDeque<M>, bool)>,
}

impl<M> Default for Delivery<M> {
    fn default() -> Self {
        Delivery {
            state: Mutex::new((VecDeque::new(), false)),
        }
    }
}

impl<M> Delivery<M> {
    /// Queues `msg`; if no other call is delivering, delivers everything queued via `deliver`.
    /// Every call for one subscriber must pass the same `deliver` (the drain uses its own).
    pub fn send(&self, msg: M, deliver: impl Fn(M)) {
        {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            s.0.push_back(msg);
            if s.1 {
                return;
            }
            s.1 = true;
        }
        loop {
            let next = {
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                match s.0.pop_front() {
                    Some(m) => m,
                    None => {
                        s.1 = false;
                        return;
                    }
                }
            };
            deliver(next);
        }
    }
}

/// Diffs `items` against what a subscriber last saw and delivers the change, if there is one.
pub fn send_changes<T: Keyed + Clone + PartialEq>(
    differ: &Mutex<Differ<T>>,
    delivery: &Delivery<ViewUpdate<T>>,
    items: Vec<T>,
    deliver: impl Fn(ViewUpdate<T>),
) {
    let change = differ
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .update(items);
    if let Some(change) = change {
        delivery.send(change, deliver);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Item(&'static str, u32);
    impl Keyed for Item {
        fn key(&self) -> String {
            self.0.to_owned()
        }
    }

    #[test]
    fn first_message_is_the_snapshot_then_only_differences() {
        let (mut d, first) = Differ::start(vec![Item("a", 1), Item("b", 1)]);
        assert_eq!(
            first,
            ViewUpdate::Snapshot(vec![Item("a", 1), Item("b", 1)])
        );
        assert_eq!(
            d.update(vec![Item("a", 1), Item("b", 1)]),
            None,
            "nothing changed, nothing sent"
        );
        assert_eq!(
            d.update(vec![Item("a", 2), Item("c", 1)]),
            Some(ViewUpdate::Changes {
                inserted: vec![Item("c", 1)],
                updated: vec![Item("a", 2)],
                removed: vec!["b".into()],
            })
        );
    }

    #[test]
    fn a_message_sent_from_inside_a_callback_is_delivered_after_it_in_order() {
        let delivery = Delivery::<u32>::default();
        let seen = Mutex::new(Vec::new());
        let deliver = |m: u32| {
            seen.lock().unwrap().push(m);
            if m == 1 {
                // Re-entrant: queued, not delivered inside this callback, and no deadlock.
                delivery.send(2, |m| seen.lock().unwrap().push(m + 100));
                assert_eq!(*seen.lock().unwrap(), vec![1]);
            }
        };
        delivery.send(1, deliver);
        assert_eq!(*seen.lock().unwrap(), vec![1, 2]);
    }
}
