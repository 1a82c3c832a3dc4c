// sendguard console: small progressive enhancements only. Every action
// works without this script; the server enforces every rule.
(function () {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    var all = document.getElementById('select-all');
    var boxes = Array.prototype.slice.call(document.querySelectorAll('.row-check'));
    var submit = document.getElementById('bulk-submit');
    function sync() {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      if (submit) { submit.disabled = n === 0; }
      if (all) { all.checked = n > 0 && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
      boxes.forEach(function (b) { b.closest('tr').classList.toggle('picked', b.checked); });
    }
    if (all) {
      all.addEventListener('change', function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        sync();
      });
    }
    boxes.forEach(function (b) { b.addEventListener('change', sync); });
    sync();
    // Filters submit on change of a select, like a search bar.
    var filters = document.getElementById('filters');
    if (filters) {
      Array.prototype.forEach.call(filters.querySelectorAll('select'), function (s) {
        s.addEventListener('change', function () { filters.submit(); });
      });
    }
  });
})();
