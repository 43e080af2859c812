#!/usr/bin/env bash
# Opens the HTML report in a real headless Chromium and checks that it renders.
#
#   scripts/browser-test.sh            # the synthetic report (and the same with a timeline)
#   scripts/browser-test.sh --large    # also 10,000 stages and 1,000,000 recorded calls
#   scripts/browser-test.sh --speedscope  # also open the golden speedscope file in speedscope
#                                         # itself (npm package `speedscope`, installed locally)
#
# Installs Debian's `chromium` package when /usr/bin/chromium is missing (apt-get, through sudo
# when not root). Writes target/browser-test/report.html, the DOM Chromium rendered
# (report.dom.html) and a screenshot (report.png) per page; exits non-zero, saying why, when a
# page shows an error, logs a console error or lacks the stage names.
set -euo pipefail
cd "$(dirname "$0")/.."

large=0
speedscope=0
for arg in "$@"; do
  case "$arg" in
    --large) large=1 ;;
    --speedscope) speedscope=1 ;;
    *) echo "usage: $0 [--large] [--speedscope]" >&2; exit 2 ;;
  esac
done

fail() {
  echo "browser test FAILED: $*" >&2
  exit 1
}

chromium=/usr/bin/chromium
if [[ ! -x "$chromium" ]]; then
  echo "== installing Debian's chromium (not found at $chromium)"
  source scripts/apt-install.sh
  apt_install chromium || fail "chromium is missing and could not be installed"
  [[ -x "$chromium" ]] || fail "apt-get installed chromium but $chromium is still missing"
fi
"$chromium" --version

out=target/browser-test
mkdir -p "$out"
rm -f "$out"/*.html "$out"/*.png "$out"/*.log

echo "== writing the reports"
BROWSER_TEST_OUT="$PWD/$out/report.html" cargo test -q -p profiler-report --lib -- --ignored --exact \
  format::html::tests::write_browser_test_report
# The same page with scripts/browser-interactions.js appended: sorting, filtering, the tree,
# the timeline, clicked through as a person would.
{
  sed '/^<\/body>$/,$d' "$out/report-events.html"
  printf '<script>\n%s\n</script>\n</body>\n</html>\n' "$(cat scripts/browser-interactions.js)"
} >"$out/report-interactions.html"
# A 40-deep chain, opened to its leaf by scripts/browser-deep-tree.js.
BROWSER_TEST_OUT="$PWD/$out/report.html" cargo test -q -p profiler-report --lib -- --ignored --exact \
  format::html::tests::write_deep_browser_test_report
{
  sed '/^<\/body>$/,$d' "$out/report-deep.html"
  printf '<script>\n%s\n</script>\n</body>\n</html>\n' "$(cat scripts/browser-deep-tree.js)"
} >"$out/report-deep-interactions.html"
pages=(report report-events report-interactions report-deep-interactions)
if [[ "$large" == 1 ]]; then
  BROWSER_TEST_OUT="$PWD/$out/report.html" cargo test -q --release -p profiler-report --lib -- --ignored --exact \
    format::html::tests::write_large_browser_test_report
  pages+=(report-large)
fi

# Runs chromium on a page, `--dump-dom` or `--screenshot=...`, with the console logged to a file.
run_chromium() {
  local page=$1 log=$2
  shift 2
  # A private profile directory, so that no state leaks between runs.
  local profile_dir
  profile_dir=$(mktemp -d)
  timeout 300 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check \
    --user-data-dir="$profile_dir" --enable-logging=stderr --v=0 --virtual-time-budget=5000 \
    "$@" "file://$PWD/$out/$page.html" 2>"$log"
  local status=$?
  rm -rf "$profile_dir"
  return $status
}

for page in "${pages[@]}"; do
  echo "== $page.html ($(du -h "$out/$page.html" | cut -f1))"
  start=$(date +%s%N)
  run_chromium "$page" "$out/$page.dom.log" --dump-dom >"$out/$page.dom.html" \
    || fail "$page: chromium --dump-dom exited with $? (see $out/$page.dom.log)"
  dom="$out/$page.dom.html"
  ready=$(grep -o 'data-ready-ms="[0-9]*"' "$dom" | head -1 | tr -dc 0-9)
  script=$(grep -o 'data-render-ms="[0-9]*"' "$dom" | head -1 | tr -dc 0-9)
  echo "   chromium run $(( ($(date +%s%N) - start) / 1000000 )) ms; page ready ${ready:-?} ms after navigation (script ${script:-?} ms)"

  grep -q 'data-rendered="true"' "$dom" || fail "$page: the page did not finish rendering (no data-rendered on <body>)"
  errors=$(sed -n 's/.*<pre id="errors"[^>]*>\(.*\)<\/pre>.*/\1/p' "$dom" | head -c 4000)
  if ! grep -q '<pre id="errors" class="errors" hidden=""></pre>' "$dom"; then
    fail "$page: the page recorded errors: ${errors:-$(grep -A20 'id="errors"' "$dom" | head -c 4000)}"
  fi
  if grep -E 'CONSOLE.*(ERROR|error)|Uncaught|Refused to' "$out/$page.dom.log" >/dev/null; then
    fail "$page: console errors: $(grep -E 'CONSOLE|Uncaught|Refused to' "$out/$page.dom.log" | head -5)"
  fi
  case "$page" in
    report | report-events | report-interactions)
      names=(main app::pipeline::parse_document render app::net::fetch tiny) ;;
    report-deep-interactions)
      names=(main stage_00001 stage_00039) ;;
    report-large)
      names=(main stage_00001 stage_00002)
      grep -q '>Show all 10000</button>' "$dom" || fail "$page: the stage table offers no way to show all 10,000 stages" ;;
  esac
  for name in "${names[@]}"; do
    grep -q "<tr data-stage=\"$name\"" "$dom" || fail "$page: the stage table has no row for \`$name\`"
  done
  grep -q 'class="chart"' "$dom" || fail "$page: no latency chart"
  grep -q 'class="tree-row" data-node="0"' "$dom" || fail "$page: no call tree"
  grep -q '<iframe class="flame-frame"' "$dom" || fail "$page: no flame graph"
  if [[ "$page" == *-interactions ]]; then
    grep -q 'data-interactions="done"' "$dom" || fail "$page: the interaction script did not finish"
  fi
  if [[ "$page" == report-events || "$page" == report-interactions || "$page" == report-large ]]; then
    grep -q '<section class="panel" id="timeline"' "$dom" || fail "$page: no timeline although the profile has events"
    grep -q '<canvas' "$dom" || fail "$page: the timeline has no canvas"
  fi

  start=$(date +%s%N)
  run_chromium "$page" "$out/$page.png.log" --screenshot="$PWD/$out/$page.png" --window-size=1280,2000 --hide-scrollbars \
    || fail "$page: chromium --screenshot exited with $? (see $out/$page.png.log)"
  [[ -s "$out/$page.png" ]] || fail "$page: no screenshot was written"
  echo "   screenshot $out/$page.png in $(( ($(date +%s%N) - start) / 1000000 )) ms"
done
if [[ "$speedscope" == 1 ]]; then
  echo "== speedscope.json in speedscope"
  command -v npm >/dev/null || fail "--speedscope needs npm"
  app="$out/speedscope/node_modules/speedscope/dist/release/index.html"
  if [[ ! -f "$app" ]]; then
    npm install --silent --no-audit --no-fund --prefix "$out/speedscope" speedscope@1 >/dev/null \
      || fail "npm could not install speedscope"
  fi
  # What speedscope's own command line does: a script handing the file to the app, by URL.
  printf 'speedscope.loadFileFromBase64("speedscope.json", "%s")\n' \
    "$(base64 -w0 profiler-report/tests/golden/speedscope.json)" >"$out/speedscope/load.js"
  url="file://$PWD/$app#localProfilePath=$PWD/$out/speedscope/load.js"
  run_chromium_url() {
    local profile_dir
    profile_dir=$(mktemp -d)
    timeout 300 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$profile_dir" \
      --allow-file-access-from-files --virtual-time-budget=5000 "$@" "$url" 2>>"$out/speedscope.log"
    local status=$?
    rm -rf "$profile_dir"
    return $status
  }
  run_chromium_url --dump-dom >"$out/speedscope.dom.html" || fail "speedscope: chromium exited with $?"
  grep -q 'call tree (self time)' "$out/speedscope.dom.html" \
    || fail "speedscope did not load the file (its title bar does not name the profile)"
  run_chromium_url --window-size=1280,700 --hide-scrollbars --screenshot="$PWD/$out/speedscope.png" \
    || fail "speedscope: chromium exited with $?"
  echo "   loaded; screenshot $out/speedscope.png"
  pages+=(speedscope)
fi
echo "browser test passed: ${pages[*]}"
