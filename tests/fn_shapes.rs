//! Every function shape `#[instrument_stage]` accepts, run against the real global registry:
//! behaviour is unchanged and each call is recorded under the expected default name.
//!
//! The tests of this binary run in parallel on one registry, so every test uses functions of
//! its own (hence exact call counts) and nothing calls `profiler_core::reset()`.
//!
//! With the `off` feature the attribute records nothing; `tests/off_switch.rs` covers that.
#![cfg(not(feature = "off"))]

use std::cell::RefCell;
use std::fmt::Debug;
use std::future::Future;
use std::num::ParseIntError;
use std::panic::{self, AssertUnwindSafe};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use profiler_core::StageSnapshot;
use profiler_macros::instrument_stage;

/// The stage called `name`, if recorded.
fn stage(name: &str) -> Option<StageSnapshot> {
    profiler_core::snapshot().stage(name).cloned()
}

/// Calls recorded for the stage `name` (0 if never recorded).
fn calls(name: &str) -> u64 {
    stage(name).map_or(0, |stage| stage.calls)
}

/// Polls a future to completion on the current thread (the futures here never wait).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn assert_send<T: Send>(_: &T) {}

// ---------------------------------------------------------------------------------------------
// Free functions

#[instrument_stage]
fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[test]
fn free_fn() {
    profiler_core::set_enabled(true);
    assert_eq!(add(2, 3), 5);
    assert_eq!(add(4, 5), 9);
    let stage = stage("fn_shapes::add").expect("`add` is recorded");
    assert_eq!(stage.calls, 2);
    assert!(!stage.is_async);
}

#[instrument_stage]
fn largest<I: IntoIterator>(items: I) -> Option<I::Item>
where
    I::Item: PartialOrd + Debug,
{
    let mut items = items.into_iter();
    let mut best = items.next()?;
    for item in items {
        if item > best {
            best = item;
        }
    }
    Some(best)
}

#[instrument_stage]
fn first_n<'a, T, const N: usize>(items: &'a [T], fallback: &'a [T]) -> &'a [T] {
    if items.len() < N { fallback } else { &items[..N] }
}

#[test]
fn generic_fns_share_one_stage_across_instantiations() {
    profiler_core::set_enabled(true);
    assert_eq!(largest([3, 9, 2]), Some(9));
    assert_eq!(largest(vec![1.5, -2.0]), Some(1.5));
    assert_eq!(largest::<[u8; 0]>([]), None);
    assert_eq!(first_n::<_, 2>(&['a', 'b', 'c'], &[]), &['a', 'b']);
    assert_eq!(first_n::<_, 5>(&[1], &[0]), &[0]);
    assert_eq!(calls("fn_shapes::largest"), 3);
    assert_eq!(calls("fn_shapes::first_n"), 2);
}

#[instrument_stage]
fn doubled(items: impl IntoIterator<Item = u32>) -> impl Iterator<Item = u32> {
    items.into_iter().map(|item| item * 2)
}

#[test]
fn impl_trait_in_argument_and_return_position() {
    profiler_core::set_enabled(true);
    assert_eq!(doubled(vec![1, 2, 3]).collect::<Vec<_>>(), [2, 4, 6]);
    assert_eq!(calls("fn_shapes::doubled"), 1);
}

struct Point {
    x: i64,
    y: i64,
}

#[instrument_stage]
fn sum_pair((a, b): (u32, u32)) -> u32 {
    a + b
}

#[instrument_stage]
fn manhattan(Point { x, y }: Point, _: ()) -> i64 {
    x.abs() + y.abs()
}

#[instrument_stage]
fn countdown(mut n: u32, mut steps: Vec<u32>) -> Vec<u32> {
    while n > 0 {
        steps.push(n);
        n -= 1;
    }
    steps
}

#[test]
fn patterns_and_mut_arguments() {
    profiler_core::set_enabled(true);
    assert_eq!(sum_pair((4, 6)), 10);
    assert_eq!(manhattan(Point { x: -3, y: 4 }, ()), 7);
    assert_eq!(countdown(3, vec![9]), [9, 3, 2, 1]);
    assert_eq!(calls("fn_shapes::sum_pair"), 1);
    assert_eq!(calls("fn_shapes::manhattan"), 1);
    assert_eq!(calls("fn_shapes::countdown"), 1);
}

#[instrument_stage]
fn parse_sum(a: &str, b: &str) -> Result<i64, ParseIntError> {
    let a: i64 = a.trim().parse()?;
    let b: i64 = b.trim().parse()?;
    Ok(a + b)
}

/// `?` converts the error with `From`, which needs the return type to be inferred as before.
#[instrument_stage]
fn parse_boxed(a: &str) -> Result<u8, Box<dyn std::error::Error>> {
    Ok(a.parse::<u8>()?)
}

#[instrument_stage]
fn classify(n: i32) -> &'static str {
    if n < 0 {
        return "negative";
    }
    if n == 0 {
        return "zero";
    }
    "positive"
}

#[test]
fn question_mark_and_early_return() {
    profiler_core::set_enabled(true);
    assert_eq!(parse_sum("2", " 40"), Ok(42));
    assert!(parse_sum("2", "x").is_err());
    assert!(parse_sum("y", "2").is_err());
    assert_eq!(parse_boxed("7").unwrap(), 7);
    assert_eq!(parse_boxed("300").unwrap_err().to_string(), "number too large to fit in target type");
    assert_eq!([classify(-5), classify(0), classify(5)], ["negative", "zero", "positive"]);
    assert_eq!(calls("fn_shapes::parse_sum"), 3);
    assert_eq!(calls("fn_shapes::parse_boxed"), 2);
    assert_eq!(calls("fn_shapes::classify"), 3);
}

#[instrument_stage]
fn diverge(message: &str) -> ! {
    panic!("{message}")
}

#[instrument_stage]
fn checked_half(n: u32) -> u32 {
    assert!(n % 2 == 0, "odd input {n}");
    n / 2
}

#[test]
fn panicking_calls_are_recorded() {
    profiler_core::set_enabled(true);
    let caught = panic::catch_unwind(|| diverge("stop"));
    assert_eq!(caught.unwrap_err().downcast_ref::<String>().map(String::as_str), Some("stop"));
    assert_eq!(checked_half(8), 4);
    assert!(panic::catch_unwind(|| checked_half(3)).is_err());
    assert_eq!(calls("fn_shapes::diverge"), 1);
    assert_eq!(calls("fn_shapes::checked_half"), 2);
}

mod unsafe_shapes {
    //! `unsafe fn` and `extern "C" fn`. The workspace denies `unsafe_code`; this module allows
    //! it because its only unsafe operation reads a reference the caller passes as a pointer.
    #![allow(unsafe_code)]

    use profiler_macros::instrument_stage;

    /// Reads `*ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for reads and aligned.
    #[instrument_stage]
    pub(super) unsafe fn read(ptr: *const u32) -> u32 {
        // SAFETY: the caller guarantees `ptr` is valid for reads.
        unsafe { *ptr }
    }

    #[instrument_stage]
    pub(super) extern "C" fn c_abi(x: i32) -> i32 {
        x * 3
    }

    pub(super) fn call_read(values: &[u32]) -> u32 {
        assert!(!values.is_empty());
        // SAFETY: the slice is not empty, so its pointer is valid for reads and aligned.
        unsafe { read(values.as_ptr()) }
    }
}

#[test]
fn unsafe_and_extern_fns() {
    profiler_core::set_enabled(true);
    assert_eq!(unsafe_shapes::call_read(&[17, 18]), 17);
    assert_eq!(unsafe_shapes::c_abi(5), 15);
    let as_pointer: extern "C" fn(i32) -> i32 = unsafe_shapes::c_abi;
    assert_eq!(as_pointer(2), 6);
    assert_eq!(calls("fn_shapes::unsafe_shapes::read"), 1);
    assert_eq!(calls("fn_shapes::unsafe_shapes::c_abi"), 2);
}

/// Docs survive.
#[must_use = "the label is the point"]
#[inline]
#[allow(clippy::needless_pass_by_value)]
#[cfg_attr(all(), allow(clippy::missing_const_for_fn))]
#[track_caller]
#[instrument_stage]
#[cold]
fn labelled(label: String) -> (String, u32) {
    (label, std::panic::Location::caller().line())
}

#[instrument_stage]
fn with_inner_attributes() -> u32 {
    #![allow(clippy::let_and_return)]
    //! Inner doc comments are attributes too.
    let value = 41 + 1;
    value
}

#[test]
fn attributes_are_kept() {
    profiler_core::set_enabled(true);
    // `#[track_caller]` still reports the caller's line.
    let line = line!() + 1;
    let (label, caller_line) = labelled(String::from("x"));
    assert_eq!((label.as_str(), caller_line), ("x", line));
    assert_eq!(with_inner_attributes(), 42);
    assert_eq!(calls("fn_shapes::labelled"), 1);
    assert_eq!(calls("fn_shapes::with_inner_attributes"), 1);
}

#[instrument_stage(name = "fn_shapes/custom name")]
fn custom_a() -> u8 {
    1
}

#[instrument_stage(name = "fn_shapes/custom name")]
fn custom_b() -> u8 {
    2
}

#[test]
fn explicit_names_are_shared() {
    profiler_core::set_enabled(true);
    assert_eq!(custom_a() + custom_b() + custom_b(), 5);
    assert_eq!(calls("fn_shapes/custom name"), 3);
    assert_eq!(calls("fn_shapes::custom_a"), 0);
}

#[instrument_stage]
fn outer(n: u32) -> u32 {
    #[instrument_stage]
    fn inner(n: u32) -> u32 {
        n + 1
    }
    inner(n) + inner(n)
}

#[test]
fn nested_fns_nest_stages() {
    profiler_core::set_enabled(true);
    assert_eq!(outer(1), 4);
    let snapshot = profiler_core::snapshot();
    let index = |name| snapshot.stages.iter().position(|stage| stage.name == name).expect("recorded");
    let (outer, inner) = (index("fn_shapes::outer"), index("fn_shapes::outer::inner"));
    assert_eq!(snapshot.stages[outer].calls, 1);
    assert_eq!(snapshot.stages[inner].calls, 2);
    let edge = snapshot.edges().into_iter().find(|edge| edge.child == inner).expect("an edge into `inner`");
    assert_eq!((edge.parent, edge.calls), (Some(outer), 2));
}

// ---------------------------------------------------------------------------------------------
// Methods

#[derive(Debug, Default)]
struct Counter {
    count: u64,
}

impl Counter {
    #[instrument_stage]
    fn new() -> Self {
        Self::default()
    }

    #[instrument_stage]
    fn bump(&mut self) -> &mut Self {
        self.count += 1;
        self
    }

    #[instrument_stage]
    fn get(&self) -> u64 {
        self.count
    }

    #[instrument_stage]
    fn into_count(self) -> u64 {
        self.count
    }

    #[instrument_stage]
    fn bumped(mut self) -> Self {
        self.count += 10;
        self
    }

    #[instrument_stage]
    #[allow(clippy::boxed_local, clippy::unnecessary_box_returns)]
    fn boxed(self: Box<Self>) -> u64 {
        self.count
    }

    #[instrument_stage]
    #[allow(clippy::needless_pass_by_value)]
    fn shared(self: Rc<Self>) -> usize {
        Rc::strong_count(&self)
    }

    #[instrument_stage]
    #[allow(clippy::needless_pass_by_value)]
    fn atomic(self: Arc<Self>) -> u64 {
        self.count
    }

    #[instrument_stage]
    fn pinned(mut self: Pin<&mut Self>) -> u64 {
        self.count += 100;
        self.count
    }
}

#[test]
fn every_receiver() {
    profiler_core::set_enabled(true);
    let mut counter = Counter::new();
    counter.bump().bump();
    assert_eq!(counter.get(), 2);
    let counter = counter.bumped();
    assert_eq!(Box::new(Counter { count: 3 }).boxed(), 3);
    let shared = Rc::new(Counter::default());
    assert_eq!(Rc::clone(&shared).shared(), 2);
    assert_eq!(Arc::new(Counter { count: 4 }).atomic(), 4);
    let mut pinned = pin!(Counter::default());
    assert_eq!(pinned.as_mut().pinned(), 100);
    assert_eq!(counter.into_count(), 12);
    for (method, expected) in [
        ("new", 1),
        ("bump", 2),
        ("get", 1),
        ("bumped", 1),
        ("boxed", 1),
        ("shared", 1),
        ("atomic", 1),
        ("pinned", 1),
        ("into_count", 1),
    ] {
        assert_eq!(calls(&format!("fn_shapes::Counter::{method}")), expected, "{method}");
    }
}

struct Stack<T> {
    items: Vec<T>,
}

impl<T: Clone> Stack<T> {
    #[instrument_stage]
    fn push(&mut self, item: T) -> usize {
        self.items.push(item);
        self.items.len()
    }

    #[instrument_stage]
    fn peek_or<'s>(&'s self, default: &'s T) -> &'s T {
        self.items.last().unwrap_or(default)
    }
}

#[test]
fn methods_of_generic_types() {
    profiler_core::set_enabled(true);
    let mut numbers = Stack { items: vec![1] };
    assert_eq!(numbers.push(2), 2);
    let mut words = Stack { items: Vec::new() };
    assert_eq!(words.push("a"), 1);
    assert_eq!(numbers.peek_or(&0), &2);
    assert_eq!(calls("fn_shapes::Stack<_>::push"), 2);
    assert_eq!(calls("fn_shapes::Stack<_>::peek_or"), 1);
}

trait Speak {
    fn name(&self) -> String;

    #[instrument_stage]
    fn greet(&self) -> String {
        format!("hello, {}", self.name())
    }
}

struct Dog;

impl Speak for Dog {
    #[instrument_stage]
    fn name(&self) -> String {
        String::from("dog")
    }
}

struct Parrot<T>(T);

impl<T: Debug> Speak for Parrot<T> {
    #[instrument_stage]
    fn name(&self) -> String {
        format!("{:?}", self.0)
    }

    #[instrument_stage]
    fn greet(&self) -> String {
        format!("squawk, {}", self.name())
    }
}

#[test]
fn trait_impl_and_default_methods() {
    profiler_core::set_enabled(true);
    assert_eq!(Dog.greet(), "hello, dog");
    assert_eq!(Parrot(1).greet(), "squawk, 1");
    let boxed: Box<dyn Speak> = Box::new(Dog);
    assert_eq!(boxed.name(), "dog");
    assert_eq!(calls("fn_shapes::Speak::greet"), 1);
    assert_eq!(calls("<fn_shapes::Dog as fn_shapes::Speak>::name"), 2);
    assert_eq!(calls("<fn_shapes::Parrot<_> as fn_shapes::Speak>::name"), 1);
    assert_eq!(calls("<fn_shapes::Parrot<_> as fn_shapes::Speak>::greet"), 1);
}

// ---------------------------------------------------------------------------------------------
// Futures

/// Not `async`: only the call that builds the future is timed.
#[instrument_stage]
fn make_future(x: u32) -> impl Future<Output = u32> + Send {
    async move { x * 2 }
}

#[test]
fn fn_returning_impl_future_times_the_call_only() {
    profiler_core::set_enabled(true);
    let future = make_future(21);
    assert_eq!(calls("fn_shapes::make_future"), 1, "recorded before the future is polled");
    assert_send(&future);
    assert_eq!(block_on(future), 42);
    assert_eq!(calls("fn_shapes::make_future"), 1);
}

/// Yields once, so an instrumented future is polled twice.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[instrument_stage]
async fn fetch(mut attempts: u32, input: &str) -> Result<u32, ParseIntError> {
    while attempts > 0 {
        YieldOnce(false).await;
        attempts -= 1;
    }
    if input.is_empty() {
        return Ok(0);
    }
    let value = input.parse::<u32>()?;
    Ok(value + 1)
}

#[instrument_stage]
async fn unit_async(flag: &mut bool) {
    *flag = true;
}

#[instrument_stage]
async fn opaque_async(n: u32) -> impl Debug {
    n
}

#[test]
fn async_free_fns() {
    profiler_core::set_enabled(true);
    let future = fetch(2, "41");
    assert_send(&future);
    assert_eq!(block_on(future), Ok(42));
    assert_eq!(block_on(fetch(0, "")), Ok(0));
    assert!(block_on(fetch(1, "x")).is_err());
    let mut flag = false;
    block_on(unit_async(&mut flag));
    assert!(flag);
    assert_eq!(format!("{:?}", block_on(opaque_async(3))), "3");
    // A future never polled is not a call.
    drop(fetch(0, "1"));
    assert_eq!(calls("fn_shapes::fetch"), 3);
    assert_eq!(calls("fn_shapes::unit_async"), 1);
    assert_eq!(calls("fn_shapes::opaque_async"), 1);
    let fetch = stage("fn_shapes::fetch").or_else(|| stage("fn_shapes::fetch::{{closure}}")).expect("recorded");
    assert!(fetch.is_async);
}

struct Account {
    balance: i64,
}

impl Account {
    #[instrument_stage]
    async fn deposit(&mut self, amount: i64) -> i64 {
        YieldOnce(false).await;
        self.balance += amount;
        self.balance
    }

    #[instrument_stage]
    async fn close(self) -> i64 {
        self.balance
    }

    #[instrument_stage]
    async fn peek(self: Pin<&mut Self>) -> i64 {
        self.balance
    }
}

trait Store {
    async fn load(&self, key: u32) -> Option<u32>;

    #[instrument_stage]
    async fn load_or_zero(&self, key: u32) -> u32 {
        self.load(key).await.unwrap_or(0)
    }
}

struct Memory;

impl Store for Memory {
    #[instrument_stage]
    async fn load(&self, key: u32) -> Option<u32> {
        (key < 10).then_some(key * key)
    }
}

#[test]
fn async_methods_and_trait_methods() {
    profiler_core::set_enabled(true);
    let mut account = Account { balance: 5 };
    let future = account.deposit(10);
    assert_send(&future);
    assert_eq!(block_on(future), 15);
    assert_eq!(block_on(pin!(Account { balance: 1 }).as_mut().peek()), 1);
    assert_eq!(block_on(account.close()), 15);
    let future = Memory.load_or_zero(3);
    assert_send(&future);
    assert_eq!(block_on(future), 9);
    assert_eq!(block_on(Memory.load_or_zero(30)), 0);
    assert_eq!(calls("fn_shapes::Account::deposit"), 1);
    assert_eq!(calls("fn_shapes::Account::close"), 1);
    assert_eq!(calls("fn_shapes::Account::peek"), 1);
    assert_eq!(calls("fn_shapes::Store::load_or_zero"), 2);
    assert_eq!(calls("<fn_shapes::Memory as fn_shapes::Store>::load"), 2);
}

#[instrument_stage]
async fn async_named_exactly() -> u8 {
    7
}

/// The default names of `async fn`s are the same as for other functions: the `{{closure}}`
/// segment of the body's coroutine, where the marker type is declared, is cut.
#[test]
fn async_default_names_are_exact() {
    profiler_core::set_enabled(true);
    assert_eq!(block_on(async_named_exactly()), 7);
    assert_eq!(calls("fn_shapes::async_named_exactly"), 1);
}

// ---------------------------------------------------------------------------------------------
// Arguments: drop order, `#[cfg]`, names

thread_local! {
    static DROPS: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// Logs its name when dropped.
struct Noisy(&'static str);

impl Drop for Noisy {
    fn drop(&mut self) {
        DROPS.with(|drops| drops.borrow_mut().push(self.0));
    }
}

/// The names of the `Noisy` values `f` drops, in order.
fn drops_of(f: impl FnOnce()) -> Vec<&'static str> {
    DROPS.with(|drops| drops.borrow_mut().clear());
    f();
    DROPS.with(RefCell::take)
}

#[instrument_stage]
async fn async_arguments(a: Noisy, _b: Noisy, (c, _): (Noisy, Noisy), _: Noisy, mut f: Noisy) -> usize {
    let _local = Noisy("local");
    YieldOnce(false).await;
    f.0 = "f";
    a.0.len() + c.0.len()
}

async fn async_arguments_plain(a: Noisy, _b: Noisy, (c, _): (Noisy, Noisy), _: Noisy, mut f: Noisy) -> usize {
    let _local = Noisy("local");
    YieldOnce(false).await;
    f.0 = "f";
    a.0.len() + c.0.len()
}

#[expect(clippy::needless_pass_by_value, reason = "dropping the arguments is the point")]
#[instrument_stage]
fn sync_arguments(a: Noisy, _b: Noisy, (c, _): (Noisy, Noisy), _: Noisy, mut f: Noisy) -> usize {
    let _local = Noisy("local");
    f.0 = "f";
    a.0.len() + c.0.len()
}

#[expect(clippy::needless_pass_by_value, reason = "dropping the arguments is the point")]
fn sync_arguments_plain(a: Noisy, _b: Noisy, (c, _): (Noisy, Noisy), _: Noisy, mut f: Noisy) -> usize {
    let _local = Noisy("local");
    f.0 = "f";
    a.0.len() + c.0.len()
}

fn noisy_arguments() -> (Noisy, Noisy, (Noisy, Noisy), Noisy, Noisy) {
    (Noisy("a"), Noisy("b"), (Noisy("c"), Noisy("d")), Noisy("e"), Noisy("f0"))
}

/// Arguments are dropped when and in the order they are without the attribute, whether the
/// body uses them or not.
#[test]
fn arguments_drop_in_their_original_order() {
    profiler_core::set_enabled(true);
    let async_drops = |instrumented: bool| {
        drops_of(|| {
            let (a, b, cd, e, f) = noisy_arguments();
            let length = if instrumented {
                block_on(async_arguments(a, b, cd, e, f))
            } else {
                block_on(async_arguments_plain(a, b, cd, e, f))
            };
            assert_eq!(length, 2);
        })
    };
    let plain = async_drops(false);
    assert_eq!(plain.len(), 7, "{plain:?}");
    assert_eq!(async_drops(true), plain);
    let sync_drops = |instrumented: bool| {
        drops_of(|| {
            let (a, b, cd, e, f) = noisy_arguments();
            let length =
                if instrumented { sync_arguments(a, b, cd, e, f) } else { sync_arguments_plain(a, b, cd, e, f) };
            assert_eq!(length, 2);
        })
    };
    let plain = sync_drops(false);
    assert_eq!(plain.len(), 7, "{plain:?}");
    assert_eq!(sync_drops(true), plain);
    assert_eq!(calls("fn_shapes::async_arguments"), 1);
    assert_eq!(calls("fn_shapes::sync_arguments"), 1);
}

#[instrument_stage]
async fn async_cfg_arguments(#[cfg(any())] hidden: u32, shown: u32, #[allow(unused_variables)] unused: u32) -> u32 {
    #[cfg(any())]
    return hidden;
    shown
}

/// A lint expectation on a pattern argument is met once, where the body's bindings are.
#[instrument_stage]
async fn async_expect_on_a_pattern(#[expect(unused_variables)] (used, unused): (u32, u32)) -> u32 {
    used
}

#[instrument_stage]
fn sync_cfg_arguments(#[cfg(any())] hidden: u32, shown: u32) -> u32 {
    #[cfg(any())]
    return hidden;
    shown
}

/// Generated names are items or locals of the expansion's own: they neither hide nor clash
/// with the user's.
const __PROFILER_CALLSITE: u32 = 7;

#[instrument_stage]
async fn async_sees_the_users_constant() -> u32 {
    __PROFILER_CALLSITE
}

#[instrument_stage]
fn sync_sees_the_users_constant() -> u32 {
    __PROFILER_CALLSITE
}

#[test]
fn cfg_arguments_and_the_users_own_names() {
    profiler_core::set_enabled(true);
    assert_eq!(block_on(async_cfg_arguments(1, 2)), 1);
    assert_eq!(sync_cfg_arguments(3), 3);
    assert_eq!(block_on(async_expect_on_a_pattern((4, 5))), 4);
    assert_eq!(block_on(async_sees_the_users_constant()), 7);
    assert_eq!(sync_sees_the_users_constant(), 7);
    assert_eq!(calls("fn_shapes::async_cfg_arguments"), 1);
    assert_eq!(calls("fn_shapes::async_sees_the_users_constant"), 1);
}

// ---------------------------------------------------------------------------------------------
// Functions written by `macro_rules!`

/// The body as a `block` fragment and the return type as a `ty` fragment: both reach the
/// attribute wrapped in invisible groups.
macro_rules! fns_from_fragments {
    ($sync:ident, $async_fn:ident, $never:ident, $ret:ty, $never_ty:ty, $body:block) => {
        #[instrument_stage]
        fn $sync() -> $ret $body

        #[instrument_stage]
        async fn $async_fn() -> $ret $body

        #[instrument_stage]
        async fn $never() -> $never_ty {
            panic!("never returns")
        }
    };
}

fns_from_fragments!(block_body, async_block_body, async_never_fragment, u32, !, { 40 + 2 });

/// Expands to a type with `impl Trait`.
macro_rules! debug_type {
    () => { impl Debug };
}

#[instrument_stage]
async fn async_returns_a_macro_type() -> debug_type!() {
    5
}

#[test]
fn functions_from_macro_fragments() {
    profiler_core::set_enabled(true);
    assert_eq!(block_body(), 42);
    assert_eq!(block_on(async_block_body()), 42);
    assert_eq!(format!("{:?}", block_on(async_returns_a_macro_type())), "5");
    let panicked = panic::catch_unwind(|| block_on(async_never_fragment()));
    assert!(panicked.is_err());
    assert_eq!(calls("fn_shapes::block_body"), 1);
    assert_eq!(calls("fn_shapes::async_block_body"), 1);
    assert_eq!(calls("fn_shapes::async_returns_a_macro_type"), 1);
    // An `async fn` call is recorded at completion, which a panicking future never reaches.
    assert_eq!(calls("fn_shapes::async_never_fragment"), 0);
}

/// A crate may forbid the lints a macro would most like to allow: the expansion allows none.
mod forbidden_lints {
    #![forbid(
        unused_braces,
        unreachable_code,
        unknown_lints,
        unused_variables,
        unused_mut,
        clippy::needless_return,
        clippy::empty_loop,
        clippy::diverging_sub_expression,
        clippy::let_unit_value,
        clippy::unreachable
    )]

    use profiler_macros::instrument_stage;

    #[rustfmt::skip]
    #[instrument_stage]
    pub(super) fn one_line(x: u8) -> u8 { x + 1 }

    #[rustfmt::skip]
    #[instrument_stage]
    pub(super) async fn async_one_line(x: u8) -> u8 { x + 1 }

    #[instrument_stage]
    pub(super) async fn async_unit() {}

    #[instrument_stage]
    pub(super) async fn async_result(text: &str) -> Result<u8, std::num::ParseIntError> {
        let value = text.parse::<u8>()?;
        Ok(value)
    }
}

#[test]
fn forbidden_lints_stay_forbidden() {
    profiler_core::set_enabled(true);
    assert_eq!(forbidden_lints::one_line(1), 2);
    assert_eq!(block_on(forbidden_lints::async_one_line(1)), 2);
    block_on(forbidden_lints::async_unit());
    assert_eq!(block_on(forbidden_lints::async_result("7")), Ok(7));
    assert_eq!(calls("fn_shapes::forbidden_lints::async_result"), 1);
}

// ---------------------------------------------------------------------------------------------
// Depth and size

#[instrument_stage]
fn depth(n: u32) -> u32 {
    if n == 0 { 0 } else { 1 + depth(n - 1) }
}

#[test]
fn deep_recursion_fits_a_small_stack() {
    profiler_core::set_enabled(true);
    let result = std::thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(|| depth(10_000))
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert_eq!(result, 10_000);
    assert_eq!(calls("fn_shapes::depth"), 10_001);
}

#[test]
fn the_guard_is_small() {
    assert!(size_of::<profiler_core::StageGuard>() <= 16, "{}", size_of::<profiler_core::StageGuard>());
}

#[test]
fn a_panic_leaves_the_stage_stack_clean() {
    profiler_core::set_enabled(true);
    let mut total = 0;
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        total += 1;
        checked_half_for_nesting(1)
    }));
    assert_eq!(total, 1);
    assert!(result.is_err());
    assert_eq!(calls("fn_shapes::checked_half_for_nesting"), 1);
    // The stack unwound cleanly: a later call is a root again.
    assert_eq!(add_after_panic(1), 2);
    let snapshot = profiler_core::snapshot();
    let index = snapshot.stages.iter().position(|stage| stage.name == "fn_shapes::add_after_panic").expect("recorded");
    assert!(snapshot.tree.iter().any(|node| node.stage == index && node.parent.is_none()));
}

#[instrument_stage]
fn checked_half_for_nesting(n: u32) -> u32 {
    assert!(n % 2 == 0, "odd input {n}");
    n / 2
}

#[instrument_stage]
fn add_after_panic(n: u32) -> u32 {
    n + 1
}
