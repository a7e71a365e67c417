//! The task cell of `#[opper::function]` (`opper::__private::TaskCell`): after its first call,
//! an instantiation finds its task without allocating, whether it called first (the lock-free
//! slot) or not (the map). Allocations are counted process-wide: this binary has one test.

use opper::__private::TaskCell;
use opper::Task;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

static CELL: TaskCell = TaskCell::new();

/// One function, one `static`, as in a generic `impl`.
fn task<T>() -> &'static Task {
    CELL.get_or_init(|| Task::new(std::any::type_name::<T>()))
}

#[test]
fn a_built_task_is_found_without_allocating() {
    // The first instantiation takes the slot, the others the map.
    let first = task::<u8>();
    let second = task::<u16>();
    let third = task::<&str>();
    assert_eq!(
        [first.get_name(), second.get_name(), third.get_name()],
        ["u8", "u16", "&str"]
    );

    let region = Region::new(GLOBAL);
    for _ in 0..1000 {
        assert!(std::ptr::eq(task::<u8>(), first));
        assert!(std::ptr::eq(task::<u16>(), second));
        assert!(std::ptr::eq(task::<&str>(), third));
    }
    let change = region.change();
    assert_eq!(
        (change.allocations, change.reallocations),
        (0, 0),
        "{change:?}"
    );
}
