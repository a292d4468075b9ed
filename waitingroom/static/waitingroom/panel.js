// The event page's waiting-room panel: refresh its figures every two seconds.
(function () {
  var panel = document.getElementById("queue-panel");
  function refresh() {
    fetch(panel.dataset.url, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (q) {
        ["waiting", "admitted", "admitted_last_minute", "queue_rate"].forEach(function (k) {
          panel.querySelector('[data-queue="' + k + '"]').textContent = q[k];
        });
        panel.querySelector('[data-queue="state"]').textContent =
          !q.queue_enabled ? "off" : (q.paused ? "paused" : "admitting");
      }).catch(function () {});
  }
  setInterval(refresh, 2000);
})();
