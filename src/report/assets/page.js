(function () {
  var boxes = document.querySelectorAll('input[data-verdict-filter]');
  function apply(box) {
    document.body.classList.toggle('hide-' + box.dataset.verdictFilter, !box.checked);
  }
  var shown = /(?:^#|&)show=([a-z,]+)/.exec(location.hash);
  boxes.forEach(function (box) {
    if (shown) {
      box.checked = shown[1].split(',').indexOf(box.dataset.verdictFilter) >= 0;
      apply(box);
    }
    box.addEventListener('change', function () { apply(box); });
  });
  document.querySelectorAll('button[data-expand]').forEach(function (button) {
    button.addEventListener('click', function () {
      var open = button.dataset.expand === 'open';
      document.querySelectorAll('details').forEach(function (d) { d.open = open; });
    });
  });
  document.documentElement.dataset.script = 'ran';
})();
