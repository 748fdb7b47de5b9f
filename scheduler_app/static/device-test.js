// "Tester mon micro et ma caméra": shows the camera's picture and the microphone's level, on
// this device only (nothing is sent anywhere). Every sentence is in the page, translated; this
// script only shows the one that fits. Without it, the page's <noscript> says what to do.
(function () {
  var box = document.getElementById("device-test");
  if (!box) { return; }
  var start = document.getElementById("device-test-start");
  var stop = document.getElementById("device-test-stop");
  var video = document.getElementById("device-test-video");
  var meter = document.getElementById("device-test-level");
  var outcomes = ["ask", "live", "refused", "missing", "busy", "unsupported"];
  var stream = null, audio = null;

  function show(state) {
    box.setAttribute("data-state", state);
    outcomes.forEach(function (name) {
      document.getElementById("device-test-" + name).hidden = name !== state;
    });
    start.hidden = state === "live" || state === "ask";
  }

  // The microphone's loudness, 0 to 100, from the waveform's distance to silence (128).
  function listen() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    audio = new Context();
    var analyser = audio.createAnalyser();
    analyser.fftSize = 512;
    audio.createMediaStreamSource(stream).connect(analyser);
    var samples = new Uint8Array(analyser.fftSize);
    (function measure() {
      if (!stream) { return; }
      analyser.getByteTimeDomainData(samples);
      var sum = 0;
      for (var i = 0; i < samples.length; i++) {
        var d = (samples[i] - 128) / 128;
        sum += d * d;
      }
      meter.value = Math.min(100, Math.round(Math.sqrt(sum / samples.length) * 300));
      window.requestAnimationFrame(measure);
    })();
  }

  function end() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    if (audio) { audio.close(); }
    stream = audio = null;
    meter.value = 0;
  }

  function failed(error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") { show("refused"); }
    else if (name === "NotFoundError" || name === "OverconstrainedError") { show("missing"); }
    else if (name === "NotReadableError" || name === "AbortError") { show("busy"); }
    else { show("unsupported"); }
  }

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    show("unsupported");
    return;
  }
  start.hidden = false;
  start.addEventListener("click", function () {
    end();
    show("ask");
    navigator.mediaDevices.getUserMedia({ video: true, audio: true }).then(function (got) {
      stream = got;
      video.srcObject = got;
      show("live");
      listen();
    }, failed);
  });
  stop.addEventListener("click", function () {
    end();
    show("ready");
    start.focus();
  });
  window.addEventListener("pagehide", end);
})();
