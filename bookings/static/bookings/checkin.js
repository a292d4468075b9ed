// The check-in desk (bookings/tickets/desk.py): a USB barcode scanner types a ticket's code
// and Enter into the scan box, which keeps the focus; each scan is posted to the desk's JSON
// view and its answer shown large and coloured. Counts and the latest check-ins refresh after
// every scan and every few seconds; the search checks in people who have no phone with them.
(function () {
  "use strict";

  var desk = document.getElementById("checkin-desk");
  if (!desk) {
    return;
  }
  var POLL_MS = 5000;
  var LOG_SIZE = 10;
  var csrf = desk.querySelector("input[name=csrfmiddlewaretoken]").value;
  var box = document.getElementById("scan-code");
  var panel = document.getElementById("scan-result");
  var panelTitle = panel.querySelector(".desk-result-title");
  var panelDetail = panel.querySelector(".desk-result-detail");
  var scanLog = document.getElementById("scan-log");
  var recent = document.getElementById("recent");
  var searchArea = document.getElementById("desk-search");
  var searchBox = document.getElementById("search-q");
  var results = document.getElementById("search-results");
  var noMatch = document.getElementById("search-empty");
  var lastQuery = "";

  // result code -> [colour, headline]
  var LOOKS = {
    checked_in: ["ok", "Checked in"],
    already_checked_in: ["warn", "Already checked in"],
    ticket_void: ["bad", "Void ticket"],
    wrong_event: ["bad", "Wrong event"],
    unknown_ticket: ["bad", "Unknown ticket"],
    checkin_closed: ["bad", "Check-in closed"],
  };
  var windowLine = document.getElementById("desk-window");

  function clock(iso) {
    if (!iso) {
      return "";
    }
    return new Date(iso).toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function ticketLine(ticket, quantity) {
    if (!ticket) {
      return "";
    }
    return "ticket " + ticket.number + (quantity ? " of " + quantity : "");
  }

  // What a scan's answer says, as [colour, headline, detail].
  function describe(body, status) {
    var code = body.result || body.code;
    var look = LOOKS[code];
    if (!look) {
      var trouble = status === 403 || status === 401 ? "Signed out? Reload the page." : "";
      return ["bad", "Could not check", body.detail || trouble || "Try again."];
    }
    var holder = body.holder ? body.holder.name : "";
    if (code === "checked_in") {
      var line = ticketLine(body.ticket, body.quantity);
      return [look[0], look[1], [holder, line].filter(Boolean).join(" · ")];
    }
    if (code === "already_checked_in") {
      var when = clock(body.checked_in_at);
      return [look[0], look[1] + " at " + when, holder];
    }
    if (code === "wrong_event" && body.ticket_event) {
      return [look[0], look[1], "This ticket is for " + body.ticket_event.name + "."];
    }
    return [look[0], look[1], body.detail || ""];
  }

  function show(colour, headline, detail) {
    panel.className = "desk-result desk-" + colour;
    panelTitle.textContent = headline;
    panelDetail.textContent = detail;
  }

  function logScan(colour, headline, detail) {
    var placeholder = scanLog.querySelector(".desk-quiet");
    if (placeholder && placeholder.parentNode === scanLog) {
      scanLog.removeChild(placeholder);
    }
    var item = element("li");
    item.appendChild(element("span", "desk-dot desk-" + colour));
    item.appendChild(element("time", "", clock(new Date().toISOString())));
    item.appendChild(document.createTextNode(" " + headline + (detail ? " · " + detail : "")));
    scanLog.insertBefore(item, scanLog.firstChild);
    while (scanLog.children.length > LOG_SIZE) {
      scanLog.removeChild(scanLog.lastChild);
    }
  }

  function showCounts(counts) {
    if (!counts) {
      return;
    }
    document.getElementById("count-in").textContent = counts.checked_in;
    document.getElementById("count-expected").textContent = counts.tickets;
    document.getElementById("count-remaining").textContent = counts.remaining;
  }

  // Whether the door is open, as the server says (it polls, so the line turns when it opens).
  function showWindow(window_) {
    if (!window_) {
      return;
    }
    windowLine.className = "desk-window desk-window-" + window_.state;
    windowLine.textContent = window_.label;
  }

  function showRecent(rows) {
    recent.textContent = "";
    if (!rows.length) {
      recent.appendChild(element("li", "desk-quiet", "Nobody is in yet."));
      return;
    }
    rows.forEach(function (row) {
      var item = element("li");
      item.appendChild(element("span", "desk-dot desk-ok"));
      item.appendChild(element("time", "", clock(row.checked_in_at)));
      item.appendChild(document.createTextNode(" " + row.holder + " "));
      item.appendChild(element("span", "desk-quiet", ticketLine(row, row.quantity)));
      recent.appendChild(item);
    });
  }

  function refresh() {
    return fetch(desk.dataset.statusUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body) {
          showCounts(body.counts);
          showWindow(body.window);
          showRecent(body.recent);
        }
      })
      .catch(function () {});
  }

  // Post one scan (`{code}`) or a manual check-in (`{ticket_id}`) and show its answer.
  function checkIn(payload) {
    return fetch(desk.dataset.scanUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrf,
      },
      body: JSON.stringify(payload),
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            // Signed out, the request was sent on to the login page.
            return [body, response.redirected ? 401 : response.status];
          });
      })
      .then(function (answer) {
        var shown = describe(answer[0], answer[1]);
        show(shown[0], shown[1], shown[2]);
        logScan(shown[0], shown[1], shown[2]);
        showCounts(answer[0].counts);
        refresh();
      })
      .catch(function () {
        show("bad", "No connection", "The scan was not recorded. Scan again.");
      });
  }

  document.getElementById("scan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = box.value.trim();
    box.value = ""; // ready for the next scan before this one is answered
    box.focus();
    if (code) {
      checkIn({ code: code });
    }
  });

  function searchRow(ticket) {
    var row = element("tr");
    var who = element("td");
    who.appendChild(element("strong", "", ticket.holder));
    who.appendChild(element("br"));
    // The e-mail comes masked (a•••@example.com); the booking's reference is its id's start.
    var booking = "booking " + String(ticket.booking_id).slice(0, 8);
    who.appendChild(element("span", "desk-quiet", ticket.email + " · " + booking));
    row.appendChild(who);
    row.appendChild(element("td", "desk-nowrap", ticketLine(ticket, ticket.quantity)));
    var state = { valid: "Not in yet", checked_in: "In at " + clock(ticket.checked_in_at), void: "Void" };
    row.appendChild(element("td", "desk-state-" + ticket.status, state[ticket.status]));
    var cell = element("td");
    if (ticket.status === "valid") {
      var button = element("button", "button default", "Check in");
      button.type = "button";
      button.addEventListener("click", function () {
        button.disabled = true;
        checkIn({ ticket_id: ticket.id }).then(function () {
          search(lastQuery);
          box.focus();
        });
      });
      cell.appendChild(button);
    }
    row.appendChild(cell);
    return row;
  }

  function search(query) {
    lastQuery = query;
    var url = desk.dataset.searchUrl + "?q=" + encodeURIComponent(query);
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { results: [] };
      })
      .then(function (body) {
        var tbody = results.querySelector("tbody");
        tbody.textContent = "";
        body.results.forEach(function (ticket) {
          tbody.appendChild(searchRow(ticket));
        });
        results.hidden = !body.results.length;
        noMatch.hidden = body.results.length > 0;
      });
  }

  document.getElementById("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var query = searchBox.value.trim();
    if (query.length >= 2) {
      search(query);
    }
  });

  // The scan box keeps the focus, so the scanner's keystrokes always land there: after any
  // click outside the search, and whenever the window comes back.
  document.addEventListener("click", function (event) {
    if (!searchArea.contains(event.target) && event.target !== box) {
      box.focus();
    }
  });
  box.addEventListener("blur", function () {
    setTimeout(function () {
      if (!searchArea.contains(document.activeElement)) {
        box.focus();
      }
    }, 0);
  });
  window.addEventListener("focus", function () {
    box.focus();
  });

  setInterval(function () {
    if (!document.hidden) {
      refresh();
    }
  }, POLL_MS);
  box.focus();
  desk.dataset.ready = "true";
})();
