//! Function shapes that must compile without any warning.
#![deny(warnings)]

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use profiler_macros::instrument_stage;

/// One-line bodies, which `unused_braces` would flag were they nested naively.
#[rustfmt::skip]
#[instrument_stage]
fn one_line() -> u8 { 1 }

#[rustfmt::skip]
#[instrument_stage]
async fn async_one_line() -> u8 { 1 }

#[instrument_stage]
fn empty() {}

#[instrument_stage]
fn never(message: &str) -> ! {
    panic!("{message}")
}

#[instrument_stage]
#[allow(unreachable_code)]
fn never_loops() -> ! {
    loop {}
}

#[instrument_stage]
fn display<'a, T: Display + ?Sized, const N: usize>(value: &'a T, _width: [u8; N]) -> impl Display + 'a
where
    T: 'a,
{
    value
}

#[instrument_stage]
fn boxed_closure(offset: i32) -> Box<dyn Fn(i32) -> i32> {
    Box::new(move |x| x + offset)
}

#[instrument_stage]
fn future_returning(x: u32) -> impl Future<Output = u32> {
    async move { x }
}

#[instrument_stage]
async fn async_impl_return(x: u32) -> impl Display {
    x
}

#[instrument_stage]
async fn async_elided(input: &str) -> &str {
    input.trim()
}

#[instrument_stage]
async fn async_question_mark(input: &str) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    let value: u8 = input.parse()?;
    if value == 0 {
        return Err("zero".into());
    }
    Ok(value)
}

#[instrument_stage]
async fn async_mut_args(mut a: u32, mut b: Vec<u32>, (c, d): (u32, u32)) -> u32 {
    a += c;
    b.push(d);
    a + b.iter().sum::<u32>()
}

#[instrument_stage]
async fn async_unused_arg(_: String, _unused: u32) {}

#[instrument_stage]
pub(crate) extern "C" fn c_abi(x: i32) -> i32 {
    x
}

trait Shape {
    fn area(&self) -> f64;

    #[instrument_stage]
    fn double_area(&self) -> f64
    where
        Self: Sized,
    {
        self.area() * 2.0
    }

    #[instrument_stage]
    async fn async_area(&self) -> f64 {
        self.area()
    }
}

struct Square(f64);

impl Shape for Square {
    #[instrument_stage]
    fn area(&self) -> f64 {
        self.0 * self.0
    }

    #[instrument_stage]
    async fn async_area(&self) -> f64 {
        self.area()
    }
}

struct Node<'a, T> {
    value: &'a T,
}

impl<'a, T: Clone> Node<'a, T> {
    #[instrument_stage]
    fn value(&self) -> &'a T {
        self.value
    }

    #[instrument_stage]
    fn into_value(self) -> T {
        self.value.clone()
    }

    #[instrument_stage]
    fn rc(self: Rc<Self>) -> T {
        self.value.clone()
    }

    #[instrument_stage]
    async fn async_pinned(self: Pin<&mut Self>) -> T {
        self.value.clone()
    }

    #[instrument_stage]
    async fn async_owned(mut self, other: &'a T) -> T {
        self.value = other;
        self.value.clone()
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn main() {
    assert_eq!(one_line(), 1);
    assert_eq!(block_on(async_one_line()), 1);
    empty();
    std::panic::set_hook(Box::new(|_| {}));
    assert!(std::panic::catch_unwind(|| never("stop")).is_err());
    let _ = never_loops as fn() -> !;
    assert_eq!(display("x", [0; 2]).to_string(), "x");
    assert_eq!(boxed_closure(1)(2), 3);
    assert_eq!(block_on(future_returning(4)), 4);
    assert_eq!(block_on(async_impl_return(5)).to_string(), "5");
    assert_eq!(block_on(async_elided(" a ")), "a");
    assert_eq!(block_on(async_question_mark("7")).unwrap(), 7);
    assert!(block_on(async_question_mark("0")).is_err());
    assert_eq!(block_on(async_mut_args(1, vec![2], (3, 4))), 10);
    block_on(async_unused_arg(String::new(), 0));
    assert_eq!(c_abi(6), 6);
    assert!((Square(2.0).double_area() - 8.0).abs() < f64::EPSILON);
    assert!((block_on(Square(1.0).async_area()) - 1.0).abs() < f64::EPSILON);
    let (one, two) = (1, 2);
    let node = Node { value: &one };
    assert_eq!(*node.value(), 1);
    assert_eq!(Rc::new(Node { value: &one }).rc(), 1);
    assert_eq!(block_on(std::pin::pin!(Node { value: &one }).as_mut().async_pinned()), 1);
    assert_eq!(block_on(Node { value: &one }.async_owned(&two)), 2);
    assert_eq!(node.into_value(), 1);
}
