// Search as the partner types: fetch only the results list, at most once per pause.
(function () {
  var input = document.querySelector("input[data-live-target]");
  if (!input || !window.fetch) return;
  var target = document.querySelector(input.dataset.liveTarget);
  var timer = null, latest = 0;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var url = location.pathname + "?q=" + encodeURIComponent(input.value);
      var ticket = ++latest;
      fetch(url, { headers: { "X-Partial": "results" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null && ticket === latest) {
            target.innerHTML = html;
            history.replaceState(null, "", url);
            // The language switcher returns here: keep it pointing at these results.
            document.querySelectorAll("form.lang input[name=next]").forEach(function (next) { next.value = url; });
          }
        });
    }, 300);
  });
})();
