// Enables the send buttons only once every acknowledgement box is ticked.
// The server enforces the same rule; without this script the buttons stay
// enabled and a premature click is refused there.
(function () {
  'use strict';
  var form = document.querySelector('form[data-ack-form]');
  if (!form) { return; }
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name=ack]'));
  var buttons = Array.prototype.slice.call(form.querySelectorAll('button[data-needs-ack]'));
  var hint = document.getElementById('ack-hint');
  function update() {
    var left = boxes.filter(function (b) { return !b.checked; }).length;
    buttons.forEach(function (b) { b.disabled = left > 0; });
    if (hint) {
      hint.textContent = left > 0 ? hint.getAttribute('data-pending').replace('%d', String(left)) : hint.getAttribute('data-ready');
    }
  }
  form.addEventListener('change', update);
  update();
}());
