// Policybot's web page, progressively enhanced: without this file every form and link
// works as plain HTML. With it, questions and buttons go to the JSON API and the answers
// are added to the page without reloading; the server renders their HTML ("html").
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var log = document.getElementById("svar");
  var status = document.getElementById("status");
  if (!csrfMeta || !log || !status || !window.fetch) return;
  var csrf = csrfMeta.getAttribute("content");

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "status feil" : "status";
  }

  function call(method, path, body) {
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method === "POST") {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRF-Token"] = csrf;
      opts.body = JSON.stringify(body || {});
    }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return { error: { code: "internal", message: "Beklager, noe gikk galt hos meg. Prøv igjen om litt." } }; });
    }).catch(function () {
      return { error: { code: "network", message: "Fikk ikke kontakt med serveren. Sjekk nettet og prøv igjen." } };
    });
  }

  function fragment(html) {
    var t = document.createElement("template");
    t.innerHTML = html;
    return t.content.firstElementChild;
  }

  function show(data, where, how) {
    if (data.error) { say(data.error.message, true); return null; }
    var el = fragment(data.html);
    if (!el) return null;
    if (how === "replace" && where) { where.replaceWith(el); }
    else if (how === "after" && where) { where.after(el); }
    else { log.appendChild(el); }
    say(data.notice || "");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "start" });
    return el;
  }

  var busy = false;
  function run(start, done) {
    if (busy) { say("Vent litt, jeg leter fortsatt …"); return; }
    busy = true;
    document.body.setAttribute("aria-busy", "true");
    say("Leter i dokumentene …");
    start().then(function (data) { done(data); }).finally(function () {
      busy = false;
      document.body.removeAttribute("aria-busy");
    });
  }

  var fields = { ask: "question", check: "claim", compare: "topic" };

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var api = form.getAttribute("data-api");
    if (api && fields[api]) {
      var input = form.querySelector("input[name]");
      var body = {}; body[fields[api]] = input ? input.value : "";
      ev.preventDefault();
      run(function () { return call("POST", "/api/" + api, body); }, function (data) {
        if (show(data) && input) {
          input.value = "";
          if (api === "ask") history.replaceState(null, "", "/?q=" + encodeURIComponent(body.question));
        }
      });
      return;
    }
    var post = form.getAttribute("data-api-post");
    if (post) {
      ev.preventDefault();
      run(function () { return call("POST", "/api/" + post, {}); }, function (data) { show(data); });
      return;
    }
    if (form.classList.contains("knapp-skjema")) {
      ev.preventDefault();
      var article = form.closest("article");
      var delivery = form.getAttribute("data-delivery");
      var data = form.querySelector('input[name="data"]').value;
      if (delivery === "check") {
        var field = document.getElementById("f-sjekk");
        if (field) { field.focus(); return; }
      }
      run(function () { return call("POST", "/api/press", { data: data }); }, function (res) {
        if (res.error) { say(res.error.message, true); return; }
        if (delivery === "notice") { say(res.notice || res.text || ""); return; }
        // replace a view by the same kind (next page, menus, /tema); otherwise add below it
        var same = article && (article.getAttribute("data-kind") === res.kind || article.getAttribute("data-kind") === "message");
        show(res, article, delivery === "replace" && same ? "replace" : "after");
      });
    }
  });

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest("a");
    if (!a) return;
    var q = a.getAttribute("data-ask");
    var get = a.getAttribute("data-api-get");
    if (q) {
      ev.preventDefault();
      run(function () { return call("POST", "/api/ask", { question: q }); }, function (data) { show(data); });
    } else if (get) {
      ev.preventDefault();
      run(function () { return call("GET", "/api/" + get); }, function (data) { show(data); });
    } else if (a.hasAttribute("data-permalink") && navigator.clipboard && window.isSecureContext) {
      ev.preventDefault();
      var url = new URL(a.getAttribute("href"), location.href).href;
      navigator.clipboard.writeText(url).then(function () { say("Lenken er kopiert: " + url); }, function () { location.href = url; });
    }
  });
})();
