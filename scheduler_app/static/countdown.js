// Improves the join page: when the room opens, go straight in (the page already says when, in
// words; without JavaScript the person taps the button at the time).
(function () {
  var box = document.getElementById("countdown");
  if (!box) { return; }
  var left = parseInt(box.getAttribute("data-seconds"), 10);
  // Only within a day: a timer set for days ahead is not worth keeping (the page is reopened).
  if (left >= 0 && left < 86400) {
    window.setTimeout(function () { window.location.reload(); }, (left + 1) * 1000);
  }
})();
