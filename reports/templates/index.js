"use strict";
(function () {
  var SEVERITY = { ERROR: 5, FAIL: 4, INCONCLUSIVE: 3, NON_STRICT: 2, PASS: 1, NOT_APPLICABLE: 0, NOT_RUN: -1 };
  var OUTCOME = { failed: 3, unresolved: 2, passed: 1, not_applicable: 0 };

  function applyFilters() {
    var verdicts = {};
    document.querySelectorAll("input.f-verdict").forEach(function (box) {
      verdicts[box.value] = box.checked;
    });
    var suite = document.getElementById("f-suite").value;
    var needle = document.getElementById("f-device").value.trim().toLowerCase();
    var shown = 0, total = 0;
    document.querySelectorAll("table.matrix").forEach(function (table) {
      table.querySelectorAll("thead [data-suite], tfoot [data-suite]").forEach(function (el) {
        el.classList.toggle("col-hidden", suite !== "" && el.dataset.suite !== suite);
      });
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var any = false;
        row.querySelectorAll("td.cell").forEach(function (cell) {
          var suiteOk = suite === "" || cell.dataset.suite === suite;
          var verdictOk = verdicts[cell.dataset.verdict] === true;
          cell.classList.toggle("col-hidden", !suiteOk);
          cell.classList.toggle("filtered", !verdictOk);
          if (suiteOk && verdictOk) { any = true; }
        });
        var text = (row.dataset.device + " " + row.dataset.label).toLowerCase();
        var visible = any && (needle === "" || text.indexOf(needle) !== -1);
        row.hidden = !visible;
        total += 1;
        if (visible) { shown += 1; }
      });
    });
    document.getElementById("shown-count").textContent = shown + " of " + total + " rows shown";
  }

  function sortKey(row, how, col) {
    if (how === "device") { return (row.dataset.label || row.dataset.device).toLowerCase(); }
    if (how === "share") { return row.dataset.share === "" ? -1 : parseFloat(row.dataset.share); }
    if (how === "outcome") { return OUTCOME[row.dataset.outcome]; }
    if (how === "passed" || how === "failed") { return parseInt(row.dataset[how], 10); }
    var cell = row.querySelectorAll("td.cell")[col];
    return SEVERITY[cell.dataset.verdict];
  }

  function sortBy(th) {
    var table = th.closest("table");
    var body = table.tBodies[0];
    var how = th.dataset.sort;
    var col = parseInt(th.dataset.col || "0", 10);
    var ascending = th.dataset.order === "desc";
    table.querySelectorAll("th.sortable").forEach(function (other) { delete other.dataset.order; });
    th.dataset.order = ascending ? "asc" : "desc";
    if (how === "device") { ascending = !ascending; }
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var ka = sortKey(a, how, col), kb = sortKey(b, how, col);
      var order = ka < kb ? -1 : ka > kb ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  document.querySelectorAll("input.f-verdict").forEach(function (box) {
    box.addEventListener("change", applyFilters);
  });
  document.getElementById("f-suite").addEventListener("change", applyFilters);
  document.getElementById("f-device").addEventListener("input", applyFilters);
  document.querySelectorAll("table.matrix th.sortable").forEach(function (th) {
    th.addEventListener("click", function () { sortBy(th); });
  });
  applyFilters();
})();
