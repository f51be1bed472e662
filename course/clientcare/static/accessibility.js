// What ipywidgets cannot say in its own markup, said for the course's widgets (inside `.clientcare`):
// - a box with class `cc-group` is a group (a radiogroup if it holds radio buttons) named by the
//   element whose id is given by its class `cc-name-<id>` (the question);
// - a slider with class `cc-name-<id>` is named by that element, or else by its own description;
// - a toggle button says whether it is pressed (aria-pressed), as its colour does;
// - keyboard focus never falls to the page when an action disables, hides or removes the control
//   that had it (the last flashcard rated, the last interview question finished): it moves to the
//   widget's message of what happened (its role="status"), which a screen reader then reads.
// Loaded once per page (clientcare/style.py); it follows the widgets as they are drawn and redrawn.
(function () {
  if (window.__clientcareAccessibility) {
    window.__clientcareAccessibility();
    return;
  }
  function nameOf(el) {
    for (const cls of el.classList) {
      if (cls.startsWith('cc-name-')) return cls.slice('cc-name-'.length);
    }
    return null;
  }
  function apply() {
    document.querySelectorAll('.clientcare .cc-group').forEach(function (widget) {
      const radios = widget.querySelector('.widget-radio-box, .jupyter-widget-radio-box');
      const box = radios || widget;
      const role = radios ? 'radiogroup' : 'group';
      const id = nameOf(widget);
      if (box.getAttribute('role') !== role) box.setAttribute('role', role);
      if (id && document.getElementById(id) && box.getAttribute('aria-labelledby') !== id) {
        box.setAttribute('aria-labelledby', id);
      }
    });
    document.querySelectorAll('.clientcare [role="slider"]').forEach(function (handle) {
      if (handle.hasAttribute('aria-labelledby')) return;
      const widget = handle.closest('.widget-slider, .jupyter-widget-slider');
      if (!widget) return;
      const id = nameOf(widget);
      if (id && document.getElementById(id)) {
        handle.setAttribute('aria-labelledby', id);
        return;
      }
      const label = widget.querySelector('.widget-label, .jupyter-widget-label');
      if (label && label.textContent.trim()) {
        if (!label.id) label.id = 'cc-label-' + Math.random().toString(36).slice(2);
        handle.setAttribute('aria-labelledby', label.id);
      }
    });
    document.querySelectorAll(
      '.clientcare .widget-toggle-button, .clientcare .jupyter-widget-toggle-button'
    ).forEach(function (button) {
      const pressed = button.classList.contains('mod-active') ? 'true' : 'false';
      if (button.getAttribute('aria-pressed') !== pressed) button.setAttribute('aria-pressed', pressed);
    });
  }
  let focused = null; // the course control that last had keyboard focus, and its widget
  let focusedWidget = null;
  document.addEventListener('focusin', function (event) {
    const widget = event.target.closest ? event.target.closest('.clientcare') : null;
    focused = widget ? event.target : null;
    focusedWidget = widget;
  });
  function gone(el) {
    return !el.isConnected || el.disabled || !el.getClientRects().length;
  }
  function keepFocus() {
    const active = document.activeElement;
    if (!focused || (active && active !== document.body && active !== focused)) return;
    if (!gone(focused)) return;
    const widget = focusedWidget && focusedWidget.isConnected ? focusedWidget : null;
    const message = widget && [...widget.querySelectorAll('[role="status"], [role="alert"]')]
      .filter(function (el) { return el.getClientRects().length && el.textContent.trim(); }).pop();
    if (!message) return;
    if (!message.hasAttribute('tabindex')) message.setAttribute('tabindex', '-1');
    message.focus();
  }
  let queued = false;
  function schedule() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(function () {
      queued = false;
      apply();
      keepFocus();
    });
  }
  new MutationObserver(function (mutations) {
    for (const mutation of mutations) {
      const node = mutation.target.nodeType === 1 ? mutation.target : mutation.target.parentElement;
      if (node && (node.closest('.clientcare') || (mutation.addedNodes.length && node.querySelector('.clientcare')))) {
        schedule();
        return;
      }
    }
  }).observe(document.body, { subtree: true, childList: true, attributes: true,
                               attributeFilter: ['class', 'disabled', 'style'] });
  window.__clientcareAccessibility = apply;
  apply();
})();
