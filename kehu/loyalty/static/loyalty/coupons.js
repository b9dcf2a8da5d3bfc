// Coupon pages: show only the template fields its kind and validity use, only the issue target
// chosen, and draw the issued/redeemed chart with the locally served ECharts (numbers from a
// json_script block, so no user text is parsed as HTML).
(function () {
  "use strict";

  function showMatching(select, attribute) {
    const update = () => {
      document.querySelectorAll(`[${attribute}]`).forEach((element) => {
        const values = element.getAttribute(attribute).split(" ");
        element.hidden = !values.includes(select.value);
      });
    };
    select.addEventListener("change", update);
    update();
  }

  function checkedRadio(name) {
    const checked = document.querySelector(`input[name="${name}"]:checked`);
    return checked ? checked.value : "";
  }

  function showIssueTarget() {
    const radios = document.querySelectorAll('#issue-form input[name="target"]');
    if (!radios.length) return;
    const update = () => {
      const target = checkedRadio("target");
      document.querySelectorAll("#issue-form [data-target]").forEach((element) => {
        element.hidden = element.dataset.target !== target;
      });
    };
    radios.forEach((radio) => radio.addEventListener("change", update));
    update();
  }

  function drawActivity() {
    const element = document.getElementById("coupon-activity");
    const source = document.getElementById("coupon-activity-data");
    if (!element || !source || typeof echarts === "undefined") return;
    const data = JSON.parse(source.textContent);
    const chart = echarts.init(element);
    chart.setOption({
      tooltip: {trigger: "axis"},
      legend: {top: 0, data: [data.labels.issued, data.labels.redeemed]},
      grid: {left: 40, right: 16, top: 36, bottom: 30},
      xAxis: {type: "category", data: data.days.map((day) => day.slice(5))},
      yAxis: {type: "value", minInterval: 1},
      series: [
        {name: data.labels.issued, type: "bar", data: data.issued, itemStyle: {color: "#93c5fd"}},
        {name: data.labels.redeemed, type: "line", data: data.redeemed, itemStyle: {color: "#16a34a"}},
      ],
    });
    window.addEventListener("resize", () => chart.resize());
  }

  document.addEventListener("DOMContentLoaded", () => {
    const kind = document.querySelector("[data-coupon-kind]");
    if (kind) showMatching(kind, "data-kinds");
    const validity = document.querySelector("[data-coupon-validity]");
    if (validity) showMatching(validity, "data-validity");
    showIssueTarget();
    drawActivity();
  });
})();
