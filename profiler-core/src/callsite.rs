//! The per-call-site `static` through which an instrumented function finds its stage once.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use crate::registry::{Registry, StageId};

/// Where a call site's stage name comes from.
#[derive(Debug)]
enum NameSource {
    /// Given by the user: `#[instrument_stage(name = "parse")]`.
    Literal(&'static str),
    /// `type_name` of a marker type declared inside the function; the marker's own segment is
    /// cut off, leaving the module path, the `Type` for methods, and the function name.
    Marker(fn() -> &'static str),
}

/// A call site: one `static` per instrumented function, holding its stage id once registered.
///
/// The macro declares it; user code never needs to.
#[derive(Debug)]
pub struct Callsite {
    name: NameSource,
    /// `0` until registered, then the stage id plus one.
    id: AtomicU32,
}

impl Callsite {
    /// A call site with an explicit stage name.
    #[must_use]
    pub const fn named(name: &'static str) -> Self {
        Self { name: NameSource::Literal(name), id: AtomicU32::new(0) }
    }

    /// A call site named after the function that declares the marker type `M`.
    #[must_use]
    pub const fn from_marker<M>() -> Self {
        Self { name: NameSource::Marker(std::any::type_name::<M>), id: AtomicU32::new(0) }
    }

    /// The stage name of this call site.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self.name {
            NameSource::Literal(name) => name,
            NameSource::Marker(type_name) => strip_marker(type_name()),
        }
    }

    /// The stage id once registered: one relaxed load.
    #[inline(always)]
    pub(crate) fn registered(&self) -> Option<StageId> {
        match self.id.load(Relaxed) {
            0 => None,
            id => Some(StageId(id - 1)),
        }
    }

    /// Registers the stage (the only time this call site touches the registry's map).
    /// `None` when the registry is full.
    #[cold]
    pub(crate) fn register(&self) -> Option<StageId> {
        let id = Registry::global().stage_id(self.name())?;
        self.id.store(id.0 + 1, Relaxed);
        Some(id)
    }
}

/// `crate::module::Type<_>::method::Marker` -> `crate::module::Type<_>::method`.
/// The marker is a plain identifier, so the last `::` separates it. In an `async fn` the marker
/// sits in the body's coroutine, spelled `{{closure}}`, which is cut too; an ordinary function's
/// marker is never directly inside a closure, so nothing else is lost.
fn strip_marker(type_name: &'static str) -> &'static str {
    let path = type_name.rsplit_once("::").map_or(type_name, |(path, _)| path);
    path.strip_suffix("::{{closure}}").unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_names_lose_only_the_marker_segment() {
        struct Marker;
        let site = Callsite::from_marker::<Marker>();
        assert_eq!(site.name(), "profiler_core::callsite::tests::marker_names_lose_only_the_marker_segment");
        assert_eq!(strip_marker("<a::Foo<_> as a::T>::m::M"), "<a::Foo<_> as a::T>::m");
        assert_eq!(strip_marker("a::fetch::{{closure}}::M"), "a::fetch");
        assert_eq!(strip_marker("a::main::{{closure}}::inner::M"), "a::main::{{closure}}::inner");
        assert_eq!(Callsite::named("parse").name(), "parse");
    }
}
