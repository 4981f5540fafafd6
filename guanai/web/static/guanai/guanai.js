/*
 * guanai.js — the little behaviour the pages need beyond htmx and Bootstrap. No framework, no build.
 * Loaded with <script src="…/guanai.js" defer> after htmx, so document.body exists when it runs.
 */
(function () {
    "use strict";

    // Django's CSRF cookie; read on every request because it rotates at login.
    function csrfToken() {
        var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
        return match ? decodeURIComponent(match[1]) : null;
    }

    // htmx sends forms and hx-post/hx-delete as XHR; Django's CsrfViewMiddleware wants the token in a
    // header. Safe methods need none, and a request to another origin must never carry it.
    document.body.addEventListener("htmx:configRequest", function (event) {
        var method = (event.detail.verb || "get").toUpperCase();
        if (method === "GET" || method === "HEAD" || method === "OPTIONS" || method === "TRACE") {
            return;
        }
        var target = new URL(event.detail.path, window.location.href);
        if (target.origin !== window.location.origin) {
            return;
        }
        var token = csrfToken();
        if (token) {
            event.detail.headers["X-CSRFToken"] = token;
        }
    });

    // Idle sign-out (等保: 30 minutes). The server ends the session after SESSION_COOKIE_AGE without a
    // request; the page warns before that, lets the person continue, and counts typing and clicks as
    // activity — so nobody is signed out in the middle of filling in a form.
    var body = document.body;
    var idleSeconds = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
    if (idleSeconds > 0) {
        var warningSeconds = parseInt(body.getAttribute("data-idle-warning-seconds") || "300", 10);
        var keepaliveUrl = body.getAttribute("data-keepalive-url");
        var logoutUrl = body.getAttribute("data-idle-logout-url");
        var banner = document.getElementById("idle-warning");
        var lastServerContact = Date.now();

        var keepalive = function () {
            lastServerContact = Date.now();
            banner.classList.add("d-none");
            var headers = {"X-Requested-With": "XMLHttpRequest"};
            var token = csrfToken();
            if (token) {
                headers["X-CSRFToken"] = token;
            }
            fetch(keepaliveUrl, {method: "POST", headers: headers, credentials: "same-origin"}).then(function (r) {
                if (r.redirected || r.status === 401 || r.status === 403) {
                    window.location.assign(logoutUrl);
                }
            });
        };
        var onActivity = function () {
            // Activity is reported at most once a minute, and only when it matters.
            if (Date.now() - lastServerContact > 60 * 1000) {
                keepalive();
            }
        };
        ["keydown", "input", "pointerdown"].forEach(function (name) {
            document.addEventListener(name, onActivity, {passive: true});
        });
        body.addEventListener("htmx:afterRequest", function () {
            lastServerContact = Date.now();
        });
        document.getElementById("idle-continue").addEventListener("click", keepalive);
        window.setInterval(function () {
            var idle = (Date.now() - lastServerContact) / 1000;
            if (idle >= idleSeconds) {
                window.location.assign(logoutUrl);
            } else if (idle >= idleSeconds - warningSeconds) {
                banner.classList.remove("d-none");
            }
        }, 5000);
    }
})();
