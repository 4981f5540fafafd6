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
})();
