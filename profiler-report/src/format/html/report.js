// The stage profiler's HTML report: renders the embedded JSON profile with plain DOM calls.
// Every piece of profile text goes through textContent or setAttribute, never innerHTML.
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 };
  var report = document.getElementById("report");
  var started = performance.now();

  function recordError(message) {
    if (window.__recordProfileError) {
      window.__recordProfileError(message);
    } else {
      throw new Error(message);
    }
  }

  // ---- small helpers -------------------------------------------------------------------

  // el("div", {class: "x"}, child, "text", ...): an element with attributes and children.
  function el(tag, attrs) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = String(value);
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    });
  }

  function append(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
    else if (typeof child === "object") node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }

  function isNum(x) {
    return typeof x === "number" && isFinite(x);
  }

  // A duration in nanoseconds with three significant digits: 900ns, 1.23µs, 45.6ms, 820ms, 1.50s.
  function fmtNs(ns) {
    if (!isNum(ns)) return "–";
    if (ns < 0) return "-" + fmtNs(-ns);
    if (ns < 999.5) return Math.round(ns) + "ns";
    var units = [[1e3, "µs"], [1e6, "ms"], [1e9, "s"]];
    for (var i = 0; i < units.length; i++) {
      var v = ns / units[i][0];
      var text = v >= 99.95 ? v.toFixed(0) : v >= 9.995 ? v.toFixed(1) : v.toFixed(2);
      if (parseFloat(text) < 1000 || i === units.length - 1) return text + units[i][1];
    }
    return String(ns);
  }

  function fmtBytes(bytes) {
    if (!isNum(bytes)) return "–";
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) {
      bytes /= 1024;
      i++;
    }
    return (i === 0 ? String(Math.round(bytes)) : bytes.toFixed(2)) + units[i];
  }

  function fmtInt(n) {
    return isNum(n) ? Math.round(n).toLocaleString("en-US") : "–";
  }

  function fmtPct(share) {
    return isNum(share) ? (share * 100).toFixed(1) + "%" : "–";
  }

  function fmtNumber(n) {
    if (!isNum(n)) return "–";
    if (Number.isInteger(n)) return n.toLocaleString("en-US");
    return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
  }

  // A field's value formatted after its name's convention (docs/json-schema.md).
  function fmtField(key, value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (typeof value === "string") return value;
    if (isNum(value)) {
      if (/_ns$/.test(key)) return fmtNs(value);
      if (/_bytes$/.test(key)) return fmtBytes(value);
      if (/speedup/.test(key)) return "×" + value.toFixed(2);
      if (key === "change") return (value > 0 ? "+" : "") + fmtPct(value);
      if (/(^impact$|share|fraction|_ratio$|^confidence$)/.test(key) && value >= 0 && value <= 1) return fmtPct(value);
      return fmtNumber(value);
    }
    var text;
    if (Array.isArray(value)) {
      // Parts such as [{stage, time_ns, share}]: "render 50.0%, ...".
      text = value.map(function (v) {
        if (!v || typeof v !== "object" || Array.isArray(v)) return fmtField(key, v);
        var label = v.stage !== undefined ? v.stage : v.name;
        var rest = Object.keys(v).filter(function (k) { return k !== "stage" && k !== "name"; });
        var main = rest.indexOf("share") >= 0 ? "share" : rest[0];
        return label !== undefined ? String(label) + (main ? " " + fmtField(main, v[main]) : "") : fmtObject(v);
      }).join(", ");
    } else if (typeof value === "object") {
      text = fmtObject(value);
    } else {
      text = String(value);
    }
    return text.length > 400 ? text.slice(0, 397) + "…" : text;
  }

  function fmtObject(object) {
    return Object.keys(object).filter(function (k) { return object[k] !== null && object[k] !== undefined; })
      .map(function (k) { return humanize(k).toLowerCase() + " " + fmtField(k, object[k]); }).join(", ");
  }

  function humanize(key) {
    var text = String(key).replace(/_ns$/, "").replace(/_bytes$/, "").replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function badge(severity, title) {
    var name = String(severity || "");
    var cls = SEVERITY_RANK.hasOwnProperty(name) ? name : "low";
    return el("span", { class: "badge " + cls, title: title || null, text: name || "–" });
  }

  // A colour for a stage name (stable across renders).
  function stageColor(name) {
    var hash = 2166136261;
    for (var i = 0; i < name.length; i++) {
      hash ^= name.charCodeAt(i);
      hash = Math.imul(hash, 16777619);
    }
    var hue = (hash >>> 0) % 360;
    return "hsl(" + hue + ", 62%, " + (58 + ((hash >>> 9) % 12)) + "%)";
  }

  function panel(id, title) {
    var section = el("section", { class: "panel", id: id }, el("h2", { text: title }));
    report.appendChild(section);
    return section;
  }

  // Runs one section's renderer; a failure is reported and shown there, the others still render.
  function guarded(section, render) {
    var start = performance.now();
    try {
      render(section);
      section.setAttribute("data-render-ms", Math.round(performance.now() - start));
    } catch (error) {
      recordError("section " + section.id + ": " + (error && error.stack ? error.stack : error));
      section.appendChild(el("p", { class: "empty", text: "This section could not be drawn: " + error }));
    }
  }

  // ---- histogram buckets (profiler_core::bucket_lower / bucket_width) --------------------

  // Durations below 128 ns get one bucket each; above, each power of two is cut into 64.
  function bucketLower(index) {
    var group = Math.floor(index / 64);
    var sub = index % 64;
    return group === 0 ? sub : (64 + sub) * Math.pow(2, group - 1);
  }

  function bucketWidth(index) {
    var group = Math.floor(index / 64);
    return group === 0 ? 1 : Math.pow(2, group - 1);
  }

  function checkBuckets() {
    var node = document.getElementById("bucket-check");
    if (!node) return;
    JSON.parse(node.textContent).forEach(function (row) {
      if (bucketLower(row[0]) !== row[1] || bucketWidth(row[0]) !== row[2]) {
        recordError("bucket " + row[0] + ": the page computes [" + bucketLower(row[0]) + ", +" +
          bucketWidth(row[0]) + "), the profiler [" + row[1] + ", +" + row[2] + ")");
      }
    });
  }

  // ---- data ----------------------------------------------------------------------------

  var data;
  try {
    var tP = performance.now();
    data = JSON.parse(document.getElementById("profile-data").textContent);
    document.body.setAttribute("data-parse-ms", Math.round(performance.now() - tP));
  } catch (error) {
    recordError("the embedded profile is not valid JSON: " + error);
    report.appendChild(el("p", { class: "empty", text: "The embedded profile could not be read: " + error }));
    return;
  }
  if (!data || typeof data !== "object") data = {};
  var stages = Array.isArray(data.stages) ? data.stages.filter(function (s) { return s && typeof s === "object"; }) : [];
  var tree = Array.isArray(data.tree) ? data.tree : [];
  var profiled = isNum(data.profiled_ns) ? data.profiled_ns : 0;
  var stageByName = {};
  stages.forEach(function (s) { stageByName[String(s.name)] = s; });

  // ---- page ----------------------------------------------------------------------------

  var sections = [
    ["summary", "Summary"],
    ["bottlenecks", "Bottlenecks & recommendations"],
    ["stages", "Stages"],
    ["latency", "Latency distribution"],
    ["tree", "Call tree"],
    ["flame", "Flame graph"],
    ["timeline", "Timeline"],
    ["counters", "Counters & memory"]
  ];
  var hasEvents = data.events !== undefined && data.events !== null;
  var hasCounters = (Array.isArray(data.counters) && data.counters.length) || (Array.isArray(data.memory) && data.memory.length);

  document.title = (data.program ? data.program + ": " : "") + "stage profile" + (data.created_at ? " — " + data.created_at : "");
  report.appendChild(el("header", { class: "page" },
    el("h1", { text: data.program ? "Stage profile of " + data.program : "Stage profile" }),
    el("span", { class: "when", text: data.created_at ? "taken " + data.created_at : "" })));
  report.appendChild(el("nav", { class: "sections" }, sections
    .filter(function (s) { return (s[0] !== "timeline" || hasEvents) && (s[0] !== "counters" || hasCounters); })
    .map(function (s) { return el("a", { href: "#" + s[0], text: s[1] }); })));

  var selectStage = function () {};

  checkBuckets();
  guarded(panel("summary", "Summary"), renderSummary);
  guarded(panel("bottlenecks", "Bottlenecks & recommendations"), renderBottlenecks);
  guarded(panel("stages", "Stages"), renderStages);
  guarded(panel("latency", "Latency distribution"), renderLatency);
  guarded(panel("tree", "Call tree"), renderTree);
  guarded(panel("flame", "Flame graph"), renderFlame);
  if (hasEvents) guarded(panel("timeline", "Timeline"), renderTimeline);
  if (hasCounters) guarded(panel("counters", "Counters & memory"), renderCounters);
  // Render time of the script, and time since the navigation started (loading and parsing included).
  document.body.setAttribute("data-render-ms", Math.round(performance.now() - started));
  document.body.setAttribute("data-ready-ms", Math.round(performance.now()));
  document.body.setAttribute("data-rendered", "true");

  // ---- summary -------------------------------------------------------------------------

  function card(label, value, sub) {
    return el("div", { class: "card" }, el("div", { class: "label", text: label }), el("div", { class: "value", text: value }),
      sub ? el("div", { class: "sub", text: sub }) : null);
  }

  function renderSummary(section) {
    var cards = el("div", { class: "cards" });
    cards.appendChild(card("Wall time", fmtNs(data.wall_ns), "from the profiler's start to the snapshot"));
    cards.appendChild(card("Profiled time", fmtNs(data.profiled_ns), "thread time inside stages, summed over threads"));
    cards.appendChild(card("Threads", fmtInt(data.threads)));
    cards.appendChild(card("Stages", fmtInt(stages.length), fmtInt(tree.length) + " call paths"));
    var calls = stages.reduce(function (sum, s) { return sum + (isNum(s.calls) ? s.calls : 0); }, 0);
    cards.appendChild(card("Calls", fmtInt(calls)));
    cards.appendChild(card("Clock", data.clock ? String(data.clock) : "–",
      data.clock === "tsc" ? "CPU time-stamp counter"
        : data.clock === "tsc-fast" ? "time-stamp counter, end stamps unfenced: short and memory-bound stages read low"
        : data.clock === "instant" ? "std::time::Instant" : null));
    var overhead = data.overhead;
    if (overhead && typeof overhead === "object" && isNum(overhead.estimated_ns)) {
      var parts = [];
      if (isNum(overhead.per_call_ns)) parts.push(fmtNs(overhead.per_call_ns) + " per call");
      if (isNum(overhead.share)) parts.push(fmtPct(overhead.share) + " of profiled time");
      if (overhead.calibrated === false) parts.push("not calibrated");
      parts.push(overhead.compensated ? "subtracted from the stages" : "not subtracted");
      if (Array.isArray(overhead.unreliable) && overhead.unreliable.length) {
        parts.push(overhead.unreliable.length + " stage" + (overhead.unreliable.length === 1 ? "" : "s") + " too short to trust (mean under " +
          fmtNs(overhead.unreliable_below_ns) + ")");
      }
      cards.appendChild(card("Profiler overhead", fmtNs(overhead.estimated_ns), parts.join("; ")));
    } else if (overhead !== undefined && overhead !== null) {
      if (typeof overhead === "object" && !Array.isArray(overhead)) {
        var keys = Object.keys(overhead);
        var main = keys.filter(function (k) { return /per_call/.test(k); })[0] || keys[0];
        var rest = keys.filter(function (k) { return k !== main; })
          .map(function (k) { return humanize(k).toLowerCase() + " " + fmtField(k, overhead[k]); }).join(", ");
        cards.appendChild(card("Profiler overhead", main ? fmtField(main, overhead[main]) + (/per_call/.test(main) ? " per call" : "") : "–",
          rest || null));
      } else {
        cards.appendChild(card("Profiler overhead", fmtField("overhead", overhead)));
      }
    }
    var analysis = data.analysis;
    if (analysis && typeof analysis === "object" && !Array.isArray(analysis)) {
      cards.appendChild(card("Analysis", analysis.compensated ? "compensated" : "as measured", fmtObject(analysis)));
    }
    if (isNum(data.schema_version)) cards.appendChild(card("Schema", "version " + data.schema_version));
    section.appendChild(cards);
  }

  // ---- bottlenecks, recommendations, trends --------------------------------------------

  // A table of objects: the preferred columns first (when present), then any other field. Shows
  // the first 100 rows, and a button for the rest.
  function objectTable(rows, preferred) {
    var keys = [];
    (preferred || []).forEach(function (k) {
      if (rows.some(function (r) { return r && typeof r === "object" && k in r; })) keys.push(k);
    });
    rows.forEach(function (r) {
      if (r && typeof r === "object") Object.keys(r).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); });
    });
    var table = el("table", { class: "data" }, el("thead", null, el("tr", null, keys.map(function (k) {
      return el("th", { class: /name|stage|severity|reason|rule|issue|action|text|detail|message|direction|children/.test(k) ? "text" : null, text: humanize(k) });
    }))));
    var body = el("tbody");
    var holder = el("div", null, el("div", { class: "table-scroll" }, table));
    function addRow(r) {
      if (!r || typeof r !== "object") {
        body.appendChild(el("tr", null, el("td", { class: "wrap", colspan: keys.length || 1, text: fmtField("", r) })));
        return;
      }
      body.appendChild(el("tr", null, keys.map(function (k) {
        var value = r[k];
        if (k === "severity" && typeof value === "string") return el("td", { class: "text" }, badge(value, r.severity_reason));
        if (k === "name" || k === "stage") return el("td", { class: "name", text: fmtField(k, value) });
        return el("td", { class: typeof value === "string" || (value && typeof value === "object") ? "wrap" : null, text: fmtField(k, value) });
      })));
    }
    rows.slice(0, 100).forEach(addRow);
    table.appendChild(body);
    showRest(holder, rows, 100, addRow);
    return holder;
  }

  // Below `holder`: "Showing the first `shown` of N" and a button adding the other rows.
  function showRest(holder, rows, shown, add) {
    if (rows.length <= shown) return;
    var bar = el("div", { class: "toolbar" }, el("span", { class: "note", text: "Showing the first " + shown + " of " + rows.length + "." }),
      el("button", { type: "button", text: "Show all " + rows.length, onclick: function () {
        bar.remove();
        rows.slice(shown).forEach(add);
      } }));
    holder.appendChild(bar);
  }

  function renderBottlenecks(section) {
    var bottlenecks = Array.isArray(data.bottlenecks) ? data.bottlenecks : [];
    section.appendChild(el("h3", { text: "Bottlenecks" }));
    section.appendChild(el("p", { class: "note", text: "Stages of severity medium or worse: inclusive time (busy time for async stages) as a share of profiled time." }));
    if (bottlenecks.length) {
      section.appendChild(objectTable(bottlenecks, ["name", "stage", "severity", "impact", "impact_ns", "total_ns", "self_ns", "self_share",
        "children", "severity_reason"]));
    } else {
      section.appendChild(el("p", { class: "empty", text: "No stage takes more than 10% of the profiled time." }));
    }

    var recommendations = Array.isArray(data.recommendations) ? data.recommendations : [];
    section.appendChild(el("h3", { text: "Recommendations" }));
    if (!recommendations.length) {
      section.appendChild(el("p", { class: "empty", text: "No recommendations in this profile." }));
    } else {
      var grid = el("div", { class: "recommendations" });
      var add = function (r) { grid.appendChild(recommendation(r)); };
      recommendations.slice(0, 12).forEach(add);
      section.appendChild(grid);
      showRest(section, recommendations, 12, add);
    }

    if (data.trends !== undefined && data.trends !== null) {
      section.appendChild(el("h3", { text: "Trends" }));
      var trends = data.trends;
      if (Array.isArray(trends)) {
        section.appendChild(trends.length ? objectTable(trends, ["stage", "name"]) : el("p", { class: "empty", text: "No trends." }));
      } else if (typeof trends === "object") {
        section.appendChild(objectTable(Object.keys(trends).map(function (k) {
          var v = trends[k];
          return v && typeof v === "object" && !Array.isArray(v) ? Object.assign({ stage: k }, v) : { stage: k, value: v };
        }), ["stage"]));
      } else {
        section.appendChild(el("p", { text: fmtField("trends", trends) }));
      }
    }
  }

  // Text with `code` spans as <code> elements.
  function withCode(text) {
    return String(text).split("`").map(function (part, i) { return i % 2 ? el("code", { text: part }) : part; });
  }

  function recommendation(r) {
    if (!r || typeof r !== "object") return el("div", { class: "recommendation" }, el("p", { text: fmtField("", r) }));
    var known = ["stage", "issue", "action", "expected_improvement", "priority", "confidence"];
    var order = ["expected_improvement", "time_saved_ns", "expected_speedup", "confidence", "rule", "amdahl"];
    var head = el("div", { class: "head" });
    if (r.priority !== undefined) {
      var priority = String(r.priority);
      head.appendChild(el("span", { class: "badge " + (SEVERITY_RANK.hasOwnProperty(priority) ? priority : "low"), text: "priority " + priority }));
    }
    if (r.stage !== undefined) head.appendChild(el("span", { class: "stage", text: fmtField("stage", r.stage) }));
    var box = el("div", { class: "recommendation" }, head);
    if (r.issue !== undefined) box.appendChild(el("p", null, el("strong", null, withCode(fmtField("issue", r.issue)))));
    if (r.action !== undefined) box.appendChild(el("p", null, withCode(fmtField("action", r.action))));
    var details = el("dl");
    order.concat(Object.keys(r).filter(function (k) { return known.indexOf(k) < 0 && order.indexOf(k) < 0; }))
      .forEach(function (k) {
        if (r[k] === undefined || r[k] === null) return;
        details.appendChild(el("dt", { text: humanize(k) }));
        details.appendChild(el("dd", { text: fmtField(k, r[k]) }));
      });
    if (details.childNodes.length) box.appendChild(details);
    return box;
  }

  // ---- stage table ---------------------------------------------------------------------

  function renderStages(section) {
    if (!stages.length) {
      section.appendChild(el("p", { class: "empty", text: "No stage was called." }));
      return;
    }
    var columns = [
      { key: "name", label: "Stage", text: true },
      { key: "calls", label: "Calls", fmt: fmtInt },
      { key: "total_ns", label: "Total", fmt: fmtNs, title: "inclusive time (wall time from first poll to completion for async stages)" },
      { key: "self_ns", label: "Self", fmt: fmtNs, title: "exclusive time: total minus instrumented callees" },
      { key: "mean_ns", label: "Mean", fmt: fmtNs },
      { key: "p50_ns", label: "p50", fmt: fmtNs },
      { key: "p95_ns", label: "p95", fmt: fmtNs },
      { key: "p99_ns", label: "p99", fmt: fmtNs },
      { key: "max_ns", label: "Max", fmt: fmtNs },
      { key: "impact", label: "% profiled", fmt: fmtPct, title: "inclusive (busy for async) time / profiled time" },
      { key: "severity", label: "Severity", text: true },
      { key: "threads", label: "Threads", fmt: fmtInt },
      { key: "histogram", label: "Distribution", text: true, title: "call durations, log scale, from the stage's fastest to slowest bucket" }
    ];
    var sortKey = null;
    var ascending = false;
    var filter = "";
    var limit = 500;
    var selected = null;

    var search = el("input", { type: "search", placeholder: "Filter stages by name", "aria-label": "Filter stages by name" });
    var count = el("span", { class: "note" });
    section.appendChild(el("div", { class: "toolbar" }, search, count));
    section.appendChild(el("p", { class: "note", text: "Click a column header to sort, a row to show its latency distribution. " +
      "Async stages: total is wall time, % profiled uses busy time." }));

    var headers = columns.map(function (c) {
      return el("th", { class: "sortable" + (c.text ? " text" : ""), title: c.title || null, text: c.label, scope: "col",
        onclick: function () {
          if (sortKey === c.key) ascending = !ascending;
          else {
            sortKey = c.key;
            ascending = !!c.text && c.key === "name";
          }
          draw();
        } });
    });
    var body = el("tbody");
    var more = el("div", { class: "toolbar" });
    section.appendChild(el("div", { class: "table-scroll" },
      el("table", { class: "data stages" }, el("thead", null, el("tr", null, headers)), body)));
    section.appendChild(more);
    search.addEventListener("input", function () {
      filter = search.value.toLowerCase();
      draw();
    });

    function sortValue(stage, key) {
      if (key === "histogram") return isNum(stage.p50_ns) ? stage.p50_ns : -Infinity;
      if (key === "severity") return SEVERITY_RANK.hasOwnProperty(stage.severity) ? SEVERITY_RANK[stage.severity] : -1;
      if (key === "name") return String(stage.name).toLowerCase();
      return isNum(stage[key]) ? stage[key] : -Infinity;
    }

    function draw() {
      var rows = stages.filter(function (s) { return !filter || String(s.name).toLowerCase().indexOf(filter) >= 0; });
      if (sortKey !== null) {
        rows = rows.slice().sort(function (a, b) {
          var x = sortValue(a, sortKey);
          var y = sortValue(b, sortKey);
          var order = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? order : -order;
        });
      }
      headers.forEach(function (h, i) {
        if (columns[i].key === sortKey) h.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        else h.removeAttribute("aria-sort");
      });
      body.textContent = "";
      var fragment = document.createDocumentFragment();
      rows.slice(0, limit).forEach(function (s) {
        var name = String(s.name);
        var row = el("tr", { "data-stage": name, class: name === selected ? "selected" : null, onclick: function () { selectStage(name); } },
          columns.map(function (c) {
            if (c.key === "name") {
              return el("td", { class: "name" }, name, s.is_async ? el("span", { class: "async-tag", text: "async" }) : null,
                s.unreliable ? el("span", { class: "async-tag", title: "mean close to the profiler's own cost per call", text: "unreliable" }) : null);
            }
            if (c.key === "histogram") return el("td", { class: "text" }, sparkline(s));
            if (c.key === "severity") return el("td", { class: "text" }, badge(s.severity, s.severity_reason));
            return el("td", { text: c.fmt(s[c.key]) });
          }));
        fragment.appendChild(row);
      });
      body.appendChild(fragment);
      count.textContent = rows.length === stages.length ? stages.length + " stages" : rows.length + " of " + stages.length + " stages";
      more.textContent = "";
      if (rows.length > limit) {
        more.appendChild(el("span", { class: "note", text: "Showing the first " + limit + " rows." }));
        more.appendChild(el("button", { type: "button", text: "Show all " + rows.length,
          onclick: function () { limit = Infinity; draw(); } }));
      }
    }

    var previousSelect = selectStage;
    selectStage = function (name) {
      selected = name;
      Array.prototype.forEach.call(body.rows, function (row) {
        row.classList.toggle("selected", row.getAttribute("data-stage") === name);
      });
      previousSelect(name);
    };
    draw();
  }

  // ---- latency distribution ------------------------------------------------------------

  function renderLatency(section) {
    var withCalls = stages.filter(function (s) {
      return s.histogram && Array.isArray(s.histogram.buckets) && s.histogram.buckets.length;
    });
    if (!withCalls.length) {
      section.appendChild(el("p", { class: "empty", text: "No stage has recorded calls." }));
      return;
    }
    section.appendChild(el("p", { class: "note", text: "Call durations from the stage's histogram (64 buckets per power of two, " +
      "log scale; each bar sums the buckets in its 6-pixel column); dashed lines mark the mean and percentiles. " +
      "Pick a stage here or click one in the table." }));
    var picker = el("select", { "aria-label": "Stage" }, withCalls.map(function (s) {
      return el("option", { value: String(s.name), text: String(s.name) });
    }));
    section.appendChild(el("div", { class: "toolbar" }, el("label", { text: "Stage " }), picker));
    var caption = el("p", { class: "note" });
    var holder = el("div");
    section.appendChild(caption);
    section.appendChild(holder);

    function show(name) {
      var stage = stageByName[name];
      if (!stage || !stage.histogram || !Array.isArray(stage.histogram.buckets)) return;
      picker.value = name;
      holder.textContent = "";
      holder.appendChild(histogramChart(stage));
      caption.textContent = name + ": " + fmtInt(stage.calls) + " calls, min " + fmtNs(stage.min_ns) + ", mean " + fmtNs(stage.mean_ns) +
        ", max " + fmtNs(stage.max_ns) + ", stdev " + fmtNs(stage.stdev_ns) + (stage.severity_reason ? ". " + stage.severity_reason : "");
    }

    picker.addEventListener("change", function () { show(picker.value); });
    var previousSelect = selectStage;
    selectStage = function (name) {
      previousSelect(name);
      show(name);
    };
    // Start with the heaviest stage that has a distribution worth seeing.
    var first = withCalls.filter(function (s) { return s.calls >= 10; })[0] || withCalls[0];
    show(String(first.name));
  }

  // The buckets of a histogram merged into `columns` equal columns of a log scale from `lo` to
  // `hi` (log2 of ns + 1): [{count, lower, upper}], empty columns included.
  function binned(buckets, lo, hi, columns) {
    var bins = [];
    for (var c = 0; c < columns; c++) bins.push({ count: 0, lower: Infinity, upper: 0 });
    buckets.forEach(function (b) {
      var lower = bucketLower(b[0]);
      var upper = lower + bucketWidth(b[0]);
      var middle = (Math.log2(lower + 1) + Math.log2(upper + 1)) / 2;
      var bin = bins[Math.min(columns - 1, Math.max(0, Math.floor((middle - lo) / (hi - lo) * columns)))];
      bin.count += b[1];
      bin.lower = Math.min(bin.lower, lower);
      bin.upper = Math.max(bin.upper, upper);
    });
    return bins;
  }

  // The log2 range shown for a histogram: its buckets, widened to at least `minOctaves`.
  function histogramRange(buckets, minOctaves) {
    var last = buckets[buckets.length - 1][0];
    var lo = Math.log2(bucketLower(buckets[0][0]) + 1);
    var hi = Math.log2(bucketLower(last) + bucketWidth(last) + 1);
    if (hi - lo < minOctaves) {
      var middle = (hi + lo) / 2;
      lo = Math.max(0, middle - minOctaves / 2);
      hi = lo + minOctaves;
    }
    return [lo, hi];
  }

  function validBuckets(stage) {
    var buckets = stage.histogram && Array.isArray(stage.histogram.buckets) ? stage.histogram.buckets : [];
    return buckets.filter(function (b) { return Array.isArray(b) && isNum(b[0]) && isNum(b[1]) && b[1] > 0; });
  }

  // A small histogram of one stage's call durations over its own range (log scale).
  function sparkline(stage) {
    var columns = 22, step = 5, height = 20;
    var box = svg("svg", { class: "spark", width: columns * step, height: height, viewBox: "0 0 " + columns * step + " " + height });
    var buckets = validBuckets(stage);
    if (!buckets.length) return box;
    var range = histogramRange(buckets, 2);
    var bins = binned(buckets, range[0], range[1], columns);
    var maxCount = bins.reduce(function (m, b) { return Math.max(m, b.count); }, 1);
    bins.forEach(function (bin, c) {
      if (!bin.count) return;
      var h = Math.max(2, bin.count / maxCount * (height - 1));
      box.appendChild(svg("rect", { class: "bar", x: c * step, y: height - h, width: step - 1, height: h }));
    });
    box.appendChild(svg("title", { text: fmtNs(stage.min_ns) + " to " + fmtNs(stage.max_ns) + ", p50 " + fmtNs(stage.p50_ns) }));
    return box;
  }

  function histogramChart(stage) {
    var buckets = validBuckets(stage);
    var width = 960, height = 280, left = 64, right = 20, top = 30, bottom = 40, step = 6;
    var pos = function (ns) { return Math.log2(ns + 1); };
    // At least a decade wide, so that a single bucket is not drawn across the whole chart, and
    // a little room on both sides.
    var range = histogramRange(buckets, Math.log2(10));
    var pad = (range[1] - range[0]) * 0.04;
    var lo = Math.max(0, range[0] - pad), hi = range[1] + pad;
    var columns = Math.floor((width - left - right) / step);
    var bins = binned(buckets, lo, hi, columns);
    var maxCount = bins.reduce(function (m, b) { return Math.max(m, b.count); }, 1);
    var x = function (ns) { return left + (pos(ns) - lo) / (hi - lo) * columns * step; };
    var y = function (count) { return top + (1 - count / maxCount) * (height - top - bottom); };
    var chart = svg("svg", { class: "chart", viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": "latency distribution of " + stage.name });

    // Axes and ticks: 1, 2, 5 × powers of ten inside the range.
    var ticks = [];
    for (var e = 0; e <= 19; e++) {
      [1, 2, 5].forEach(function (m) {
        var v = m * Math.pow(10, e);
        if (pos(v) >= lo && pos(v) <= hi) ticks.push(v);
      });
    }
    var decades = ticks.filter(function (v) { return String(v).charAt(0) === "1"; });
    if (decades.length >= 3) ticks = decades;
    ticks.forEach(function (v) {
      var tx = x(v);
      chart.appendChild(svg("line", { class: "grid", x1: tx, x2: tx, y1: top, y2: height - bottom }));
      chart.appendChild(svg("text", { x: tx, y: height - bottom + 16, "text-anchor": "middle", text: fmtNs(v) }));
    });
    [0, 0.5, 1].forEach(function (f) {
      var count = Math.round(maxCount * f);
      chart.appendChild(svg("text", { x: left - 6, y: y(count) + 4, "text-anchor": "end", text: fmtInt(count) }));
    });
    chart.appendChild(svg("text", { x: 12, y: top - 12, text: "calls" }));
    chart.appendChild(svg("text", { x: width - right, y: height - 6, "text-anchor": "end", text: "call duration (log scale)" }));

    // Columns of `step` pixels, each summing the buckets centred in it; any calls make a bar at
    // least 2 px high.
    bins.forEach(function (bin, c) {
      if (!bin.count) return;
      var top0 = Math.min(y(bin.count), height - bottom - 2);
      chart.appendChild(svg("rect", { class: "bar", x: left + c * step + 0.5, y: top0, width: step - 1, height: height - bottom - top0 },
        svg("title", { text: fmtInt(bin.count) + " calls in [" + fmtNs(bin.lower) + ", " + fmtNs(bin.upper) + ")" })));
    });
    chart.appendChild(svg("line", { class: "axis", x1: left, x2: width - right, y1: height - bottom, y2: height - bottom }));
    chart.appendChild(svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: height - bottom }));

    var markers = [["mean", stage.mean_ns, "#2e7d32"], ["p50", stage.p50_ns, "#1565c0"], ["p95", stage.p95_ns, "#e65100"], ["p99", stage.p99_ns, "#c62828"]];
    var placed = [];
    markers.forEach(function (m) {
      if (!isNum(m[1]) || m[1] <= 0) return;
      var mx = Math.min(Math.max(x(m[1]), left), width - right);
      // Labels of nearby markers go on separate rows.
      var row = 0;
      while (placed.some(function (p) { return p[1] === row && Math.abs(p[0] - mx) < 44; })) row++;
      placed.push([mx, row]);
      chart.appendChild(svg("line", { class: "marker", x1: mx, x2: mx, y1: top - 2 + row * 12, y2: height - bottom, stroke: m[2] }));
      chart.appendChild(svg("text", { class: "marker-label", x: mx + 3, y: top - 16 + row * 12 + 12, fill: m[2], text: m[0] + " " + fmtNs(m[1]) }));
    });
    return chart;
  }

  // ---- call tree -----------------------------------------------------------------------

  function renderTree(section) {
    if (!tree.length) {
      section.appendChild(el("p", { class: "empty", text: "The call tree is empty." }));
      return;
    }
    var children = tree.map(function () { return []; });
    var roots = [];
    var depthOf = [];
    tree.forEach(function (node, i) {
      var parent = node && isNum(node.parent) && node.parent >= 0 && node.parent < i ? node.parent : null;
      depthOf[i] = parent === null ? 0 : depthOf[parent] + 1;
      (parent === null ? roots : children[parent]).push(i);
    });
    var byTotal = function (a, b) { return (tree[b].total_ns || 0) - (tree[a].total_ns || 0); };
    roots.sort(byTotal);
    children.forEach(function (list) { list.sort(byTotal); });
    var rootTotal = roots.reduce(function (sum, i) { return sum + (tree[i].total_ns || 0); }, 0);

    section.appendChild(el("p", { class: "note", text: "One row per distinct path of stages, merged over threads, children by total time. " +
      "% of parent compares total times (for a root: the roots' sum); % profiled is the path's total over the profiled time." }));
    var box = el("div", { class: "tree", role: "tree" });
    box.appendChild(el("div", { class: "tree-row head" },
      el("div", { text: "Stage" }), el("div", { class: "num", text: "Calls" }), el("div", { class: "num", text: "Total" }),
      el("div", { class: "num", text: "Self" }), el("div", { class: "num", text: "% of parent" }), el("div", { class: "num", text: "% profiled" })));
    var budget = 250; // rows opened at start
    var toggles = [];
    // Past 24 levels the indent stops growing (a deep recursion would push the names off the
    // page) and the row says its depth instead.
    var maxIndent = 24;
    function indent(depth) { return 18 * Math.min(depth, maxIndent); }

    function rows(list, container, parentTotal) {
      var shown = 0;
      function more() {
        var stop = Math.min(list.length, shown + 200);
        for (; shown < stop; shown++) container.appendChild(row(list[shown], parentTotal));
        if (shown < list.length) {
          var rest = list.length - shown;
          var button = el("button", { type: "button", text: "show " + Math.min(rest, 200) + " more of " + rest });
          var line = el("div", { class: "more-row", style: "padding-left:" + (8 + indent(depthOf[list[shown]])) + "px" }, button);
          button.addEventListener("click", function () { line.remove(); more(); });
          container.appendChild(line);
        }
      }
      more();
    }

    function row(i, parentTotal) {
      var node = tree[i];
      var stage = stageByName[String(node.stage)];
      var total = isNum(node.total_ns) ? node.total_ns : 0;
      var share = parentTotal > 0 ? Math.min(1, total / parentTotal) : 0;
      var wrap = el("div", { role: "treeitem" });
      var kids = children[i];
      var toggle = el("button", { type: "button", class: "toggle" + (kids.length ? "" : " leaf"), "aria-label": "expand", text: "▸" });
      var line = el("div", { class: "tree-row", "data-node": i },
        el("div", { class: "label", style: "padding-left:" + indent(depthOf[i]) + "px" }, toggle,
          el("span", { class: "name", text: String(node.stage) }), stage && stage.is_async ? el("span", { class: "async-tag", text: "async" }) : null,
          depthOf[i] > maxIndent ? el("span", { class: "async-tag", title: "depth in the call tree", text: "level " + (depthOf[i] + 1) }) : null),
        el("div", { class: "num", text: fmtInt(node.calls) }),
        el("div", { class: "num", text: fmtNs(node.total_ns) }),
        el("div", { class: "num", text: fmtNs(node.self_ns) }),
        el("div", { class: "share" }, fmtPct(share), el("span", { class: "track" }, el("span", { class: "fill", style: "width:" + (share * 100).toFixed(1) + "%; display:block" }))),
        el("div", { class: "num", text: profiled > 0 ? fmtPct(total / profiled) : "–" }));
      wrap.appendChild(line);
      var inner = null;
      function setOpen(open) {
        if (!kids.length) return;
        if (open && !inner) {
          inner = el("div", { role: "group" });
          rows(kids, inner, total);
          wrap.appendChild(inner);
        }
        if (inner) inner.hidden = !open;
        toggle.textContent = open ? "▾" : "▸";
        toggle.setAttribute("aria-label", open ? "collapse" : "expand");
        wrap.setAttribute("aria-expanded", open ? "true" : "false");
      }
      toggle.addEventListener("click", function () { setOpen(!inner || inner.hidden); });
      toggles.push(setOpen);
      if (kids.length && depthOf[i] < 4 && budget > 0) {
        budget -= kids.length;
        setOpen(true);
      }
      return wrap;
    }

    section.appendChild(el("div", { class: "toolbar" },
      el("button", { type: "button", text: "Collapse all", onclick: function () { toggles.forEach(function (t) { t(false); }); } })));
    rows(roots, box, rootTotal);
    section.appendChild(box);
  }

  // ---- flame graph ---------------------------------------------------------------------

  function renderFlame(section) {
    var node = document.getElementById("flame-svg");
    var text = node ? JSON.parse(node.textContent) : null;
    if (typeof text !== "string" || !text) {
      section.appendChild(el("p", { class: "empty", text: "No flame graph in this report." }));
      return;
    }
    var url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
    var match = /<svg[^>]*?\sheight="(\d+)"/.exec(text);
    var height = match ? parseInt(match[1], 10) + 6 : 600;
    section.appendChild(el("div", { class: "toolbar" },
      el("span", { class: "note", text: "Width is inclusive thread time. Click a box to zoom, Ctrl+F inside the graph to search." }),
      el("a", { class: "button", href: url, download: "flamegraph.svg", text: "Download SVG" })));
    section.appendChild(el("iframe", { class: "flame-frame", src: url, title: "flame graph", style: "height:" + height + "px" }));
  }

  // ---- timeline ------------------------------------------------------------------------

  // events: {dropped, threads: [{id, name, dropped, events: [[stage, start_ns, dur_ns, depth], ...]}]}
  // (docs/json-schema.md) or the array of threads itself; stage is an index into "stages" or a
  // name. The depth is recomputed from the times, so it may be left out.
  function readThreads() {
    var source = Array.isArray(data.events) ? data.events : data.events && Array.isArray(data.events.threads) ? data.events.threads : [];
    var names = [];
    var nameIndex = {};
    function stageIndex(stage) {
      var name = typeof stage === "number" ? (stages[stage] ? String(stages[stage].name) : "stage #" + stage) : String(stage);
      if (!nameIndex.hasOwnProperty(name)) {
        nameIndex[name] = names.length;
        names.push(name);
      }
      return nameIndex[name];
    }
    var threads = source.filter(function (t) { return t && typeof t === "object"; }).map(function (t, n) {
      var list = Array.isArray(t.events) ? t.events : [];
      var count = list.length;
      var stage = new Int32Array(count), start = new Float64Array(count), end = new Float64Array(count);
      var kept = 0;
      for (var i = 0; i < count; i++) {
        var e = list[i];
        var s, b, d;
        if (Array.isArray(e)) { s = e[0]; b = e[1]; d = e[2]; } else if (e && typeof e === "object") {
          s = e.stage; b = e.start_ns; d = e.dur_ns !== undefined ? e.dur_ns : e.duration_ns;
        }
        if (s === undefined || !isNum(b) || !isNum(d)) continue;
        stage[kept] = stageIndex(s);
        start[kept] = b;
        end[kept] = b + Math.max(0, d);
        kept++;
      }
      // By start, enclosing calls first; then a depth per call from a stack of open ends.
      var order = new Uint32Array(kept);
      for (var k = 0; k < kept; k++) order[k] = k;
      var sorted = true;
      for (k = 1; k < kept && sorted; k++) sorted = start[k - 1] < start[k] || (start[k - 1] === start[k] && end[k - 1] >= end[k]);
      if (!sorted) order.sort(function (a, b) { return start[a] - start[b] || end[b] - end[a]; });
      var th = { name: t.name !== undefined ? String(t.name) : "thread " + (t.id !== undefined ? t.id : n + 1), id: t.id,
        dropped: isNum(t.dropped) ? t.dropped : 0, stage: new Int32Array(kept), start: new Float64Array(kept),
        end: new Float64Array(kept), depth: new Uint16Array(kept), lanes: 1 };
      var open = [];
      for (k = 0; k < kept; k++) {
        var j = order[k];
        while (open.length && open[open.length - 1] <= start[j]) open.pop();
        th.stage[k] = stage[j];
        th.start[k] = start[j];
        th.end[k] = end[j];
        th.depth[k] = Math.min(open.length, 65535);
        open.push(end[j]);
        if (open.length > th.lanes) th.lanes = open.length;
      }
      return th;
    });
    return { threads: threads, names: names };
  }

  function renderTimeline(section) {
    var read = readThreads();
    var threads = read.threads;
    var total = threads.reduce(function (sum, t) { return sum + t.start.length; }, 0);
    var dropped = threads.reduce(function (sum, t) { return sum + t.dropped; }, 0);
    // The run's total also counts the events of exited threads dropped to bound memory.
    if (data.events && isNum(data.events.dropped) && data.events.dropped > dropped) dropped = data.events.dropped;
    section.appendChild(el("p", { class: "note", text: fmtInt(total) + " recorded calls on " + threads.length + " thread" +
      (threads.length === 1 ? "" : "s") + (dropped ? "; " + fmtInt(dropped) + " older calls were dropped by the per-thread buffer" : "") +
      ". Scroll to zoom, drag to pan, double-click to reset; nested calls stack downwards." }));
    if (!total) {
      section.appendChild(el("p", { class: "empty", text: "No recorded calls." }));
      return;
    }
    var MAX_LANES = 40, LANE = 16, HEAD = 20, AXIS = 24, GUTTER = 150;
    var t0 = Infinity, t1 = -Infinity;
    threads.forEach(function (t) {
      for (var i = 0; i < t.start.length; i++) {
        if (t.start[i] < t0) t0 = t.start[i];
        if (t.end[i] > t1) t1 = t.end[i];
      }
    });
    if (!(t1 > t0)) t1 = t0 + 1;
    var view = [t0, t1];
    var tops = [];
    var height = AXIS;
    threads.forEach(function (t) {
      tops.push(height);
      height += HEAD + Math.min(t.lanes, MAX_LANES) * LANE + 6;
    });
    var colors = read.names.map(stageColor);
    var canvas = el("canvas", { role: "img", "aria-label": "timeline of recorded calls" });
    var tip = el("div", { class: "tooltip", hidden: true });
    var wrap = el("div", { class: "timeline-wrap" }, canvas, tip);
    section.appendChild(wrap);
    var ctx = canvas.getContext("2d");
    var width = 0;
    var pending = false;

    function resize() {
      width = Math.max(400, wrap.clientWidth);
      var ratio = window.devicePixelRatio || 1;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.width = width + "px";
      canvas.style.height = height + "px";
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      draw();
    }

    function xOf(t) { return GUTTER + (t - view[0]) / (view[1] - view[0]) * (width - GUTTER - 8); }
    function tOf(px) { return view[0] + (px - GUTTER) / (width - GUTTER - 8) * (view[1] - view[0]); }

    function draw() {
      pending = false;
      ctx.clearRect(0, 0, width, height);
      ctx.font = "11px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      // Time axis.
      var span = view[1] - view[0];
      var step = Math.pow(10, Math.floor(Math.log10(span / 6)));
      if (span / step > 12) step *= 5; else if (span / step > 6) step *= 2;
      ctx.fillStyle = "#5f6877";
      ctx.strokeStyle = "#edf0f4";
      for (var tick = Math.ceil((view[0] - t0) / step) * step + t0; tick <= view[1]; tick += step) {
        var tx = Math.round(xOf(tick)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(tx, AXIS - 4);
        ctx.lineTo(tx, height);
        ctx.stroke();
        var label = fmtNs(tick - t0);
        if (tx + 3 + ctx.measureText(label).width < width) ctx.fillText(label, tx + 3, AXIS / 2);
      }
      threads.forEach(function (t, n) {
        var top = tops[n];
        ctx.fillStyle = "#1d2330";
        ctx.font = "600 12px system-ui, sans-serif";
        ctx.fillText(t.name, 6, top + HEAD / 2);
        ctx.font = "11px system-ui, sans-serif";
        ctx.fillStyle = "#5f6877";
        ctx.fillText(fmtInt(t.start.length) + " calls" + (t.dropped ? ", " + fmtInt(t.dropped) + " dropped" : ""), 6, top + HEAD + 8);
        if (t.lanes > MAX_LANES) ctx.fillText("deeper than " + MAX_LANES + " not drawn", 6, top + HEAD + 22);
        ctx.save();
        ctx.beginPath();
        ctx.rect(GUTTER, top, width - GUTTER, HEAD + MAX_LANES * LANE);
        ctx.clip();
        // Calls narrower than a pixel share one column per lane.
        var lastPixel = new Float64Array(Math.min(t.lanes, MAX_LANES)).fill(-1);
        var currentColor = -1;
        for (var i = 0; i < t.start.length; i++) {
          var depth = t.depth[i];
          if (depth >= MAX_LANES || t.end[i] < view[0] || t.start[i] > view[1]) continue;
          var x0 = xOf(t.start[i]);
          var x1 = xOf(t.end[i]);
          var y = top + HEAD + depth * LANE;
          if (x1 - x0 < 1) {
            var px = Math.floor(x0);
            if (lastPixel[depth] === px) continue;
            lastPixel[depth] = px;
            x0 = px;
            x1 = px + 1;
          }
          if (t.stage[i] !== currentColor) {
            currentColor = t.stage[i];
            ctx.fillStyle = colors[currentColor];
          }
          var left = Math.max(x0, GUTTER - 1);
          ctx.fillRect(left, y, Math.max(1, x1 - left - (x1 - x0 > 3 ? 1 : 0)), LANE - 1);
          if (x1 - left > 40) {
            ctx.fillStyle = "#1d2330";
            ctx.fillText(fitText(read.names[t.stage[i]], x1 - left - 6), left + 3, y + LANE / 2);
            ctx.fillStyle = colors[currentColor];
          }
        }
        ctx.restore();
        ctx.strokeStyle = "#dde1e7";
        ctx.beginPath();
        ctx.moveTo(0, top + 0.5);
        ctx.lineTo(width, top + 0.5);
        ctx.stroke();
      });
    }

    function fitText(text, room) {
      if (ctx.measureText(text).width <= room) return text;
      var chars = Math.max(1, Math.floor(room / 6.5) - 1);
      return chars < 2 ? "" : text.slice(0, chars) + "…";
    }

    function schedule() {
      if (!pending) {
        pending = true;
        window.requestAnimationFrame(draw);
      }
    }

    function hit(px, py) {
      for (var n = threads.length - 1; n >= 0; n--) {
        if (py < tops[n]) continue;
        var t = threads[n];
        var lane = Math.floor((py - tops[n] - HEAD) / LANE);
        if (lane < 0 || lane >= Math.min(t.lanes, MAX_LANES)) return null;
        var time = tOf(px);
        var slack = (view[1] - view[0]) / (width - GUTTER) * 1.5;
        for (var i = 0; i < t.start.length; i++) {
          if (t.depth[i] === lane && t.start[i] - slack <= time && t.end[i] + slack >= time) return { thread: t, index: i };
        }
        return null;
      }
      return null;
    }

    var drag = null;
    canvas.addEventListener("wheel", function (event) {
      var rect = canvas.getBoundingClientRect();
      var px = event.clientX - rect.left;
      if (px < GUTTER) return;
      event.preventDefault();
      var at = tOf(px);
      var factor = Math.pow(1.0015, event.deltaY);
      var span = Math.max(100, Math.min((view[1] - view[0]) * factor, (t1 - t0) * 1.05));
      var f = (at - view[0]) / (view[1] - view[0]);
      view = [at - f * span, at - f * span + span];
      schedule();
    }, { passive: false });
    canvas.addEventListener("mousedown", function (event) {
      drag = { x: event.clientX, view: view.slice() };
      canvas.classList.add("dragging");
    });
    window.addEventListener("mouseup", function () {
      drag = null;
      canvas.classList.remove("dragging");
    });
    canvas.addEventListener("dblclick", function () {
      view = [t0, t1];
      schedule();
    });
    canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
    canvas.addEventListener("mousemove", function (event) {
      var rect = canvas.getBoundingClientRect();
      var px = event.clientX - rect.left;
      var py = event.clientY - rect.top;
      if (drag) {
        var shift = (event.clientX - drag.x) / (width - GUTTER - 8) * (drag.view[1] - drag.view[0]);
        view = [drag.view[0] - shift, drag.view[1] - shift];
        schedule();
        tip.hidden = true;
        return;
      }
      var found = px >= GUTTER ? hit(px, py) : null;
      if (!found) {
        tip.hidden = true;
        return;
      }
      var t = found.thread, i = found.index;
      tip.textContent = read.names[t.stage[i]] + "\n" + fmtNs(t.end[i] - t.start[i]) + " at " + fmtNs(t.start[i] - t0) + " (" + t.name + ")";
      tip.hidden = false;
      tip.style.left = Math.min(px + 12, width - 300) + "px";
      tip.style.top = (py + 14) + "px";
    });
    window.addEventListener("resize", resize);
    resize();
  }

  // ---- counters and memory -------------------------------------------------------------

  function renderCounters(section) {
    if (Array.isArray(data.counters) && data.counters.length) {
      section.appendChild(el("h3", { text: "Counters" }));
      section.appendChild(objectTable(data.counters, ["name", "value"]));
    }
    if (Array.isArray(data.memory) && data.memory.length) {
      section.appendChild(el("h3", { text: "Memory" }));
      section.appendChild(objectTable(data.memory, ["name", "samples", "last_bytes", "min_bytes", "peak_bytes", "mean_bytes"]));
    }
  }
})();
