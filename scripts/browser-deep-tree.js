// Appended to the report of a 40-deep chain of calls by scripts/browser-test.sh: opens the call
// tree down to its leaf, as a person would, and checks that the indent stops growing past 24
// levels and that the rows below say their depth instead. Records anything unexpected in
// #errors; sets data-interactions="done" on <body> at the end.
(function () {
  "use strict";
  function fail(message) {
    window.__recordProfileError("deep tree test: " + message);
  }
  function treeRows() {
    return document.querySelectorAll("#tree .tree-row[data-node]");
  }
  try {
    // A chain: the last row is always the deepest one opened so far.
    for (var clicks = 0; clicks < 100; clicks++) {
      var rows = treeRows();
      var toggle = rows[rows.length - 1].querySelector(".toggle");
      if (toggle.classList.contains("leaf")) break;
      toggle.click();
    }
    var all = treeRows();
    if (all.length !== 40) fail("expected 40 rows once opened to the leaf, got " + all.length);
    function nameLeft(index) {
      return all[index].querySelector(".name").getBoundingClientRect().left;
    }
    if (!(nameLeft(24) > nameLeft(23))) fail("the indent grows down to level 25");
    if (nameLeft(39) !== nameLeft(24)) fail("the indent grows past level 25: " + nameLeft(24) + " then " + nameLeft(39));
    var tag = all[39].querySelector(".label").textContent;
    if (!/level 40$/.test(tag)) fail("the leaf's row does not say its depth: " + JSON.stringify(tag));
    if (/level/.test(all[24].querySelector(".label").textContent)) fail("a row at level 25 names its depth");
  } catch (error) {
    fail(error && error.stack ? error.stack : String(error));
  }
  window.requestAnimationFrame(function () {
    document.body.setAttribute("data-interactions", "done");
  });
})();
