/*
 * dashboards.js — draws the dashboard's charts with the vendored ECharts, from the figures the server put
 * in <script type="application/json" id="dashboard-charts"> (the same figures as the table beside each
 * chart). A protected ("<5") or withheld ("—") cell arrives as null and is not drawn.
 */
(function () {
    "use strict";

    var source = document.getElementById("dashboard-charts");
    if (!source || typeof window.echarts === "undefined") {
        return;
    }
    var specs = JSON.parse(source.textContent || "{}");
    var palette = ["#1f5fa8", "#e07b39", "#3a9a5b", "#8e5ea2", "#c0392b", "#7f8c8d", "#d4a017", "#16a085"];

    function option(spec) {
        var base = {
            color: palette,
            aria: { enabled: true },
            animation: false,
            tooltip: { trigger: spec.type === "pie" ? "item" : "axis" },
            legend: { top: 0, type: "scroll" },
        };
        if (spec.type === "pie") {
            base.series = spec.series.map(function (series) {
                return {
                    name: series.name,
                    type: "pie",
                    radius: ["35%", "65%"],
                    top: 30,
                    data: series.data.filter(function (item) { return item.value !== null; }),
                };
            });
            return base;
        }
        base.grid = { left: 8, right: 16, top: 40, bottom: 8, containLabel: true };
        base.xAxis = { type: "category", data: spec.categories, axisLabel: { interval: 0, rotate: spec.categories.length > 6 ? 30 : 0 } };
        base.yAxis = { type: "value", minInterval: 1 };
        base.series = spec.series.map(function (series) {
            return { name: series.name, type: spec.type, data: series.data, connectNulls: false };
        });
        return base;
    }

    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (element) {
        var spec = specs[element.getAttribute("data-chart")];
        if (!spec) {
            return;
        }
        var chart = window.echarts.init(element, null, { renderer: "svg" });
        chart.setOption(option(spec));
        element.setAttribute("data-chart-ready", "true");
        charts.push(chart);
    });
    window.addEventListener("resize", function () {
        charts.forEach(function (chart) { chart.resize(); });
    });
})();
