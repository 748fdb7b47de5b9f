// Improves the join page: a live countdown, then straight into the room when it opens.
// Without JavaScript the page already says the time and reloads itself.
(function () {
  var box = document.getElementById("countdown");
  if (!box) { return; }
  var left = parseInt(box.getAttribute("data-seconds"), 10);
  // A translated sentence with %(hours)s, %(minutes)s and %(seconds)s in the language's own order.
  var format = box.getAttribute("data-format");
  var end = Date.now() + left * 1000;
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var s = Math.max(0, Math.round((end - Date.now()) / 1000));
    if (s === 0) { window.location.reload(); return; }
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    box.textContent = format.replace("%(hours)s", String(h)).replace("%(minutes)s", pad(m))
      .replace("%(seconds)s", pad(sec));
    window.setTimeout(tick, s > 120 ? 30000 : 1000);
  }
  tick();
})();
