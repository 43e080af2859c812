//! Folded stacks: one `root;child;leaf <self_ns>` line per path of the call tree, the input of
//! inferno and of Brendan Gregg's `flamegraph.pl`.
//!
//! Each line is one node of the merged call tree with non-zero self time: the stage names from
//! the root down to that node, joined by `;`, a space, and the node's self (exclusive) time in
//! nanoseconds. The self times of all lines add up to the profiled time.
//!
//! Stage names are written as they are, except that a name cannot contain the two characters
//! the format uses as separators: every `;` becomes `,` and every control character (newline,
//! carriage return, tab, ...) becomes a space. Spaces are fine: the count is after the last
//! one. Lines are sorted by their stack (byte order), and lines that sanitizing made equal are
//! merged, so the output is deterministic.
//!
//! A line holds its whole stack, so the text grows with the square of the recursion depth: a
//! 20,000-deep chain would write gigabytes. Paths are therefore written whole down to
//! [`MAX_DEPTH`] stages only. Below that, the nodes of each deepest kept path are flattened:
//! each one's self time goes to a line made of the kept path, a `[N deeper levels, flattened]`
//! frame and its own stage name. So the leaf work keeps its name and every kept frame keeps its
//! inclusive time; only the order of the deeper levels is lost (the JSON profile keeps it).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use profiler_core::Snapshot;

use crate::format::json::Profile;

/// One path of the call tree with its self time: a line of the folded format.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FoldedStack {
    /// Stage names from the root to the node.
    pub frames: Vec<String>,
    /// Self (exclusive) time of the node, in nanoseconds.
    pub self_ns: u64,
}

/// The stacks of a snapshot's call tree: one per tree node with non-zero self time, sorted by
/// frames. Names are kept as they are (sanitizing happens in [`render_folded`]).
#[must_use]
pub fn stacks(snapshot: &Snapshot) -> Vec<FoldedStack> {
    collect(
        snapshot
            .tree
            .iter()
            .map(|n| (snapshot.stages.get(n.stage).map_or("?", |s| s.name.as_str()), n.parent, n.self_ns)),
    )
}

/// The stacks of a JSON profile's call tree (for conversions of a saved profile), as
/// [`stacks`] does for a snapshot.
#[must_use]
pub fn profile_stacks(profile: &Profile) -> Vec<FoldedStack> {
    collect(profile.tree.iter().map(|n| (n.stage.as_str(), n.parent, n.self_ns)))
}

/// How many stages of a path are written as they are; deeper nodes are flattened under a
/// `[N deeper levels, flattened]` frame (see the [module documentation](self)). Deep enough for
/// any readable flame graph (16 pixels a level), small enough to bound the output by 512 frames
/// a node.
pub const MAX_DEPTH: usize = 512;

/// Builds the stacks from tree nodes given as `(name, parent index, self_ns)`, parents first.
/// A parent index that does not point to an earlier node ends the path there (a root).
fn collect<'a>(nodes: impl Iterator<Item = (&'a str, Option<usize>, u64)>) -> Vec<FoldedStack> {
    let nodes: Vec<(&str, Option<usize>, u64)> = nodes.collect();
    let parent = |index: usize| nodes[index].1.filter(|&p| p < index);
    // Depth from 1 at a root, and for nodes deeper than MAX_DEPTH their ancestor at MAX_DEPTH.
    let mut depth = vec![0usize; nodes.len()];
    let mut anchor = vec![usize::MAX; nodes.len()];
    // Per anchor: the deepest level below it, and the self time of each stage below it.
    let mut flattened: BTreeMap<usize, (usize, BTreeMap<&str, u64>)> = BTreeMap::new();
    let mut merged: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for (index, &(name, _, self_ns)) in nodes.iter().enumerate() {
        let up = parent(index);
        depth[index] = up.map_or(1, |p| depth[p] + 1);
        match up {
            Some(p) if depth[index] > MAX_DEPTH => {
                anchor[index] = if depth[p] == MAX_DEPTH { p } else { anchor[p] };
                let (deepest, by_stage) = flattened.entry(anchor[index]).or_default();
                *deepest = (*deepest).max(depth[index] - MAX_DEPTH);
                let into = by_stage.entry(name).or_default();
                *into = into.saturating_add(self_ns);
            }
            _ if self_ns > 0 => {
                let into = merged.entry(path_to(index, &nodes, parent)).or_default();
                *into = into.saturating_add(self_ns);
            }
            _ => {}
        }
    }
    for (anchor, (deepest, by_stage)) in flattened {
        let path = path_to(anchor, &nodes, parent);
        for (name, self_ns) in by_stage.into_iter().filter(|&(_, ns)| ns > 0) {
            let mut frames = path.clone();
            let levels = if deepest == 1 { "level" } else { "levels" };
            frames.push(format!("[{deepest} deeper {levels}, flattened]"));
            frames.push(name.to_owned());
            let into = merged.entry(frames).or_default();
            *into = into.saturating_add(self_ns);
        }
    }
    merged.into_iter().map(|(frames, self_ns)| FoldedStack { frames, self_ns }).collect()
}

/// The stage names from the root down to node `index`.
fn path_to(index: usize, nodes: &[(&str, Option<usize>, u64)], parent: impl Fn(usize) -> Option<usize>) -> Vec<String> {
    let mut frames = vec![nodes[index].0.to_owned()];
    let mut cursor = index;
    while let Some(up) = parent(cursor) {
        frames.push(nodes[up].0.to_owned());
        cursor = up;
    }
    frames.reverse();
    frames
}

/// A stage name as it can appear in a folded line: `;` becomes `,`, control characters
/// (newlines included) become spaces.
#[must_use]
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == ';' {
                ','
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Renders folded stacks, one `a;b;c <self_ns>` line each, ending with a newline.
///
/// Names are sanitized (see the [module documentation](self)), lines are sorted by stack and
/// stacks that became equal are merged; stacks without self time are left out.
#[must_use]
pub fn render_folded(stacks: &[FoldedStack]) -> String {
    let mut lines: BTreeMap<String, u64> = BTreeMap::new();
    for stack in stacks.iter().filter(|s| s.self_ns > 0) {
        let path = stack.frames.iter().map(|f| sanitize(f)).collect::<Vec<_>>().join(";");
        let into = lines.entry(path).or_default();
        *into = into.saturating_add(stack.self_ns);
    }
    let mut out = String::with_capacity(lines.keys().map(|k| k.len() + 22).sum());
    for (path, self_ns) in &lines {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{path} {self_ns}");
    }
    out
}

/// Parses folded stacks (`a;b;c 1234` lines) back, in the order of the lines.
///
/// Empty lines and `# ` comment lines are skipped. Frames are split at every `;`, and the count
/// is the text after the last space.
///
/// # Errors
/// A line has no space-separated count, the count is not an unsigned integer, or the stack is
/// empty; the message names the line (counting from 1).
pub fn parse_folded(text: &str) -> Result<Vec<FoldedStack>, String> {
    let mut stacks = Vec::new();
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r'))) {
        if line.trim().is_empty() || line.starts_with("# ") {
            continue;
        }
        let Some((path, count)) = line.rsplit_once(' ') else {
            return Err(format!("line {number}: no count after the stack"));
        };
        let self_ns = count.parse::<u64>().map_err(|e| format!("line {number}: bad count `{count}`: {e}"))?;
        if path.is_empty() {
            return Err(format!("line {number}: empty stack"));
        }
        stacks.push(FoldedStack { frames: path.split(';').map(str::to_owned).collect(), self_ns });
    }
    Ok(stacks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::check_golden;
    use crate::test_data::synthetic_snapshot;

    #[test]
    fn folded_stacks_of_a_synthetic_snapshot_match_the_golden_file() {
        check_golden("folded.txt", &render_folded(&stacks(&synthetic_snapshot())));
    }

    #[test]
    fn folded_stacks_parse_back_to_the_call_tree() {
        let snapshot = synthetic_snapshot();
        let text = render_folded(&stacks(&snapshot));
        let parsed = parse_folded(&text).unwrap();
        let total: u64 = parsed.iter().map(|s| s.self_ns).sum();
        assert_eq!(total, snapshot.profiled_ns());
        // Every tree path with self time, as names from the root.
        let mut tree_paths: Vec<(Vec<String>, u64)> = snapshot
            .tree
            .iter()
            .enumerate()
            .filter(|(_, n)| n.self_ns > 0)
            .map(|(i, n)| {
                let mut path = Vec::new();
                let mut cursor = Some(i);
                while let Some(c) = cursor {
                    path.push(snapshot.stages[snapshot.tree[c].stage].name.clone());
                    cursor = snapshot.tree[c].parent;
                }
                path.reverse();
                (path, n.self_ns)
            })
            .collect();
        tree_paths.sort();
        let mut parsed_paths: Vec<(Vec<String>, u64)> = parsed.into_iter().map(|s| (s.frames, s.self_ns)).collect();
        parsed_paths.sort();
        assert_eq!(parsed_paths, tree_paths);
    }

    #[test]
    fn separators_in_names_are_replaced_and_equal_lines_merge() {
        let stacks = vec![
            FoldedStack { frames: vec!["main".into(), "fill [u8; 8]".into()], self_ns: 5 },
            FoldedStack { frames: vec!["main".into(), "fill [u8, 8]".into()], self_ns: 7 },
            FoldedStack { frames: vec!["two\nlines\r\tx".into()], self_ns: 3 },
            FoldedStack { frames: vec!["idle".into()], self_ns: 0 },
        ];
        let text = render_folded(&stacks);
        assert_eq!(text, "main;fill [u8, 8] 12\ntwo lines  x 3\n");
        let parsed = parse_folded(&text).unwrap();
        assert_eq!(parsed[0].frames, ["main", "fill [u8, 8]"]);
        assert_eq!(parsed[1], FoldedStack { frames: vec!["two lines  x".into()], self_ns: 3 });
    }

    #[test]
    fn equal_lines_saturate_at_u64_max() {
        let stacks = vec![
            FoldedStack { frames: vec!["a;b".into()], self_ns: u64::MAX },
            FoldedStack { frames: vec!["a,b".into()], self_ns: 2 },
        ];
        assert_eq!(render_folded(&stacks), "a,b 18446744073709551615\n");
        let nodes = [("a", None, u64::MAX), ("b", Some(0), 1), ("b", Some(0), 1), ("b", Some(0), u64::MAX)];
        assert_eq!(
            collect(nodes.into_iter())[1],
            FoldedStack { frames: vec!["a".into(), "b".into()], self_ns: u64::MAX }
        );
    }

    #[test]
    fn recursion_and_profiles_give_the_same_stacks() {
        let mut snapshot = synthetic_snapshot();
        // render -> render (recursive) under the existing render node.
        let render = snapshot.tree[2].clone();
        snapshot.tree.push(profiler_core::TreeNode { parent: Some(2), self_ns: 10, ..render });
        let from_snapshot = stacks(&snapshot);
        assert!(
            from_snapshot.iter().any(|s| s.frames == ["main", "app::pipeline::parse_document", "render", "render"])
        );
        let profile = Profile::from_snapshot(&snapshot);
        assert_eq!(profile_stacks(&profile), from_snapshot);
    }

    /// `(name, parent, self_ns)` nodes of a chain `root → f → f → … → leaf`, `f` repeated
    /// `depth` times, each with a self time of 1 ns (the leaf 1,000 ns).
    fn chain(depth: usize) -> Vec<(&'static str, Option<usize>, u64)> {
        let mut nodes = vec![("root", None, 1)];
        nodes.extend((1..=depth).map(|i| ("f", Some(i - 1), 1)));
        nodes.push(("leaf", Some(depth), 1000));
        nodes
    }

    #[test]
    fn paths_deeper_than_the_limit_are_flattened_under_one_frame() {
        let depth = 20_000;
        let stacks = collect(chain(depth).into_iter());
        // One line per kept level, then one per stage below the limit.
        assert_eq!(stacks.len(), MAX_DEPTH + 2);
        assert!(stacks.iter().all(|s| s.frames.len() <= MAX_DEPTH + 2));
        let total: u64 = stacks.iter().map(|s| s.self_ns).sum();
        assert_eq!(total, 1 + depth as u64 + 1000, "no self time is lost");
        // The leaf is at depth 20,002: 19,490 levels below the 512 kept ones.
        let flattened = "[19490 deeper levels, flattened]";
        let deep: Vec<&FoldedStack> = stacks.iter().filter(|s| s.frames.len() > MAX_DEPTH).collect();
        assert_eq!(deep.len(), 2);
        for stack in &deep {
            assert_eq!(stack.frames[0], "root");
            assert!(stack.frames[1..MAX_DEPTH].iter().all(|f| f == "f"));
            assert_eq!(stack.frames[MAX_DEPTH], flattened);
        }
        assert_eq!((deep[0].frames[MAX_DEPTH + 1].as_str(), deep[0].self_ns), ("f", (depth + 1 - MAX_DEPTH) as u64));
        assert_eq!((deep[1].frames[MAX_DEPTH + 1].as_str(), deep[1].self_ns), ("leaf", 1000));
        // The folded text parses back with the same total.
        let parsed = parse_folded(&render_folded(&stacks)).unwrap();
        assert_eq!(parsed.iter().map(|s| s.self_ns).sum::<u64>(), total);
    }

    #[test]
    fn a_path_at_the_limit_is_written_whole() {
        // root + MAX_DEPTH - 2 f + leaf = MAX_DEPTH stages.
        let stacks = collect(chain(MAX_DEPTH - 2).into_iter());
        assert_eq!(stacks.len(), MAX_DEPTH);
        assert!(stacks.iter().all(|s| !s.frames.iter().any(|f| f.contains("flattened"))));
        assert!(stacks.iter().any(|s| s.frames.len() == MAX_DEPTH && s.frames.last().unwrap() == "leaf"));
        let one_deeper = collect(chain(MAX_DEPTH - 1).into_iter());
        let last = one_deeper.iter().find(|s| s.frames.len() > MAX_DEPTH).unwrap();
        assert_eq!(last.frames[MAX_DEPTH..], ["[1 deeper level, flattened]", "leaf"]);
    }

    #[test]
    fn flattening_keeps_every_kept_frame_inclusive_time() {
        // Two deep branches under one root: a → (b → c → b → c …) and a → (d → d → …), with
        // self times that differ by level, so that a lost or misplaced nanosecond shows.
        let mut nodes = vec![("a", None, 7)];
        for (first, second) in [("b", "c"), ("d", "d")] {
            let mut parent = 0;
            for level in 0..3 * MAX_DEPTH {
                let name = if level % 2 == 0 { first } else { second };
                nodes.push((name, Some(parent), level as u64 % 5));
                parent = nodes.len() - 1;
            }
        }
        let stacks = collect(nodes.iter().copied());
        assert!(stacks.iter().all(|s| s.frames.len() <= MAX_DEPTH + 2));
        // Inclusive time of every kept node: its subtree's self time in the tree, against the
        // lines that pass through it (followed from the root by name).
        let mut in_tree: Vec<u64> = nodes.iter().map(|n| n.2).collect();
        for index in (1..nodes.len()).rev() {
            in_tree[nodes[index].1.unwrap()] += in_tree[index];
        }
        let child: std::collections::HashMap<(Option<usize>, &str), usize> =
            nodes.iter().enumerate().map(|(i, n)| ((n.1, n.0), i)).collect();
        let mut in_lines = vec![0u64; nodes.len()];
        for stack in &stacks {
            let mut cursor = None;
            for frame in &stack.frames {
                let Some(&node) = child.get(&(cursor, frame.as_str())) else { break };
                in_lines[node] += stack.self_ns;
                cursor = Some(node);
            }
        }
        let mut depth = vec![1usize; nodes.len()];
        for index in 1..nodes.len() {
            depth[index] = depth[nodes[index].1.unwrap()] + 1;
        }
        for index in (0..nodes.len()).filter(|&i| depth[i] <= MAX_DEPTH) {
            assert_eq!(in_lines[index], in_tree[index], "node {index} at depth {}", depth[index]);
        }
        assert!(in_lines.iter().zip(&depth).all(|(&ns, &d)| d <= MAX_DEPTH || ns == 0));
        // Below the limit, each branch's stages keep their own self time.
        let below = |stage: &str| -> u64 {
            nodes.iter().zip(&depth).filter(|(n, d)| **d > MAX_DEPTH && n.0 == stage).map(|(n, _)| n.2).sum()
        };
        for stage in ["b", "c", "d"] {
            let line = stacks.iter().find(|s| s.frames.len() > MAX_DEPTH && s.frames.last().unwrap() == stage).unwrap();
            assert_eq!(line.self_ns, below(stage), "{stage}");
        }
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        assert_eq!(parse_folded("a;b 1\n\n# comment\nc 2\n").unwrap().len(), 2);
        assert_eq!(parse_folded("a;b 1\nnocount\n").unwrap_err(), "line 2: no count after the stack");
        assert!(parse_folded("a x\n").unwrap_err().starts_with("line 1: bad count `x`"));
        assert_eq!(parse_folded(" 5\n").unwrap_err(), "line 1: empty stack");
    }

    #[test]
    fn an_empty_tree_folds_to_nothing() {
        let mut snapshot = synthetic_snapshot();
        snapshot.tree.clear();
        assert_eq!(render_folded(&stacks(&snapshot)), "");
        assert_eq!(parse_folded("").unwrap(), []);
    }
}
