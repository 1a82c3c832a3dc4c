// Enables each send button once the acknowledgement boxes it needs are
// ticked ("send" needs every box, "send in Bcc" only the attachments'),
// and offers a "check all" box per group. The server enforces the same
// rule; without this script the buttons stay enabled and a premature
// click is refused there.
(function () {
  'use strict';
  var form = document.querySelector('form[data-ack-form]');
  if (!form) { return; }
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name=ack]'));
  var buttons = Array.prototype.slice.call(form.querySelectorAll('button[data-needs-ack]'));
  var groups = Array.prototype.slice.call(form.querySelectorAll('[data-check-all]'));
  var hint = document.getElementById('ack-hint');
  function left(prefix) {
    return boxes.filter(function (b) { return !b.checked && b.value.indexOf(prefix) === 0; }).length;
  }
  function update() {
    buttons.forEach(function (b) { b.disabled = left(b.getAttribute('data-needs-ack') || '') > 0; });
    groups.forEach(function (g) {
      var all = g.querySelector('input');
      var prefix = g.getAttribute('data-check-all');
      all.checked = left(prefix) === 0;
    });
    if (hint) {
      var n = left('');
      hint.textContent = n > 0 ? hint.getAttribute('data-pending').replace('%d', String(n)) : hint.getAttribute('data-ready');
    }
  }
  groups.forEach(function (g) {
    var all = g.querySelector('input');
    var prefix = g.getAttribute('data-check-all');
    g.hidden = false;
    all.addEventListener('change', function () {
      boxes.forEach(function (b) { if (b.value.indexOf(prefix) === 0) { b.checked = all.checked; } });
      update();
    });
  });
  form.addEventListener('change', update);
  update();
}());
