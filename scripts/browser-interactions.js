// Appended to a copy of the synthetic report by scripts/browser-test.sh: clicks through the
// page as a person would (sorting, filtering, picking a stage, the call tree, the timeline) and
// records anything unexpected in #errors. Sets data-interactions="done" on <body> at the end.
(function () {
  "use strict";
  function fail(message) {
    window.__recordProfileError("interaction test: " + message);
  }
  function rows() {
    return Array.prototype.map.call(document.querySelectorAll("#stages tbody tr"), function (r) {
      return r.getAttribute("data-stage");
    });
  }
  function expect(what, actual, expected) {
    if (actual !== expected) fail(what + ": expected " + JSON.stringify(expected) + ", got " + JSON.stringify(actual));
  }
  try {
    var headers = document.querySelectorAll("#stages thead th");
    var byLabel = {};
    Array.prototype.forEach.call(headers, function (h) { byLabel[h.textContent] = h; });
    byLabel.Calls.click();
    expect("sorted by calls, descending", rows()[0], "app::pipeline::parse_document");
    expect("aria-sort", byLabel.Calls.getAttribute("aria-sort"), "descending");
    byLabel.Calls.click();
    expect("sorted by calls, ascending", rows()[0], "main");
    byLabel.Stage.click();
    expect("sorted by name", rows().join(","), "app::net::fetch,app::pipeline::parse_document,main,render,tiny");
    byLabel.Severity.click();
    expect("sorted by severity", rows()[4], "tiny");
    Array.prototype.forEach.call(headers, function (h) {
      h.click();
      h.click();
      expect("rows after sorting by " + h.textContent, rows().length, 5);
    });

    var search = document.querySelector("#stages input[type=search]");
    search.value = "PARSE";
    search.dispatchEvent(new Event("input"));
    expect("filtered rows", rows().join(","), "app::pipeline::parse_document");
    search.value = "";
    search.dispatchEvent(new Event("input"));
    expect("unfiltered rows", rows().length, 5);

    document.querySelector('#stages tbody tr[data-stage="render"]').click();
    expect("stage picked by a row click", document.querySelector("#latency select").value, "render");
    expect("selected row", document.querySelector("#stages tbody tr.selected").getAttribute("data-stage"), "render");
    var picker = document.querySelector("#latency select");
    picker.value = "tiny";
    picker.dispatchEvent(new Event("change"));
    if (!/^tiny: 3 calls/.test(document.querySelector("#latency p.note:not(:first-of-type)").textContent)) {
      fail("latency caption: " + document.querySelector("#latency p.note:not(:first-of-type)").textContent);
    }
    expect("latency bars for tiny", document.querySelectorAll("#latency rect.bar").length, 3);

    var collapse = document.querySelector("#tree .toolbar button");
    collapse.click();
    var root = document.querySelector('#tree [data-node="0"]').parentNode;
    expect("collapsed root", root.getAttribute("aria-expanded"), "false");
    document.querySelector('#tree [data-node="0"] .toggle').click();
    expect("expanded root", root.getAttribute("aria-expanded"), "true");
    expect("visible tree rows after expanding the root", Array.prototype.filter.call(
      document.querySelectorAll("#tree .tree-row[data-node]"), function (r) { return r.offsetParent !== null; }).length, 3);

    var canvas = document.querySelector("#timeline canvas");
    if (canvas) {
      var box = canvas.getBoundingClientRect();
      var at = function (x, y) { return { clientX: box.left + x, clientY: box.top + y, bubbles: true, cancelable: true }; };
      canvas.dispatchEvent(new WheelEvent("wheel", Object.assign({ deltaY: -400 }, at(500, 50))));
      canvas.dispatchEvent(new MouseEvent("mousedown", at(500, 50)));
      canvas.dispatchEvent(new MouseEvent("mousemove", at(450, 50)));
      window.dispatchEvent(new MouseEvent("mouseup", at(450, 50)));
      canvas.dispatchEvent(new MouseEvent("dblclick", at(450, 50)));
      // Over the first thread's outermost call (`main`, the whole run).
      canvas.dispatchEvent(new MouseEvent("mousemove", at(400, 24 + 20 + 8)));
      var tip = document.querySelector("#timeline .tooltip");
      if (tip.hidden || !/^main\n/.test(tip.textContent)) fail("timeline tooltip: hidden=" + tip.hidden + " text=" + tip.textContent);
    }
  } catch (error) {
    fail(error && error.stack ? error.stack : String(error));
  }
  window.requestAnimationFrame(function () {
    document.body.setAttribute("data-interactions", "done");
  });
})();
