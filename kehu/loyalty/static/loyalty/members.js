// Draws the programme report's charts with the locally served ECharts. The numbers come from a
// json_script block, so no user text is ever parsed as HTML; tooltips escape what they show.
(function () {
  "use strict";

  const {escapeText} = window.kehuCharts;

  const palette = {issued: "#16a34a", redeemed: "#2563eb", expired: "#9ca3af", takenBack: "#dc2626",
    liability: "#f59e0b"};

  function pointsOption(data) {
    const labels = data.labels;
    const negative = (values) => values.map((value) => -value);
    const bar = (key, values) => ({type: "bar", stack: "points", name: labels[key],
      color: palette[key], data: values});
    return {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"},
        formatter: (items) => `<strong>${escapeText(items[0].name)}</strong><br>` +
          items.map((item) => `${escapeText(item.seriesName)}: ${Math.abs(item.value).toLocaleString()}`)
            .join("<br>")},
      legend: {top: 0},
      grid: {left: 60, right: 70, top: 40, bottom: 30},
      xAxis: {type: "category", data: data.months},
      yAxis: [{type: "value"}, {type: "value", name: labels.liability, position: "right"}],
      series: [
        bar("issued", data.issued),
        bar("redeemed", negative(data.redeemed)),
        bar("expired", negative(data.expired)),
        bar("takenBack", negative(data.takenBack)),
        {type: "line", yAxisIndex: 1, name: labels.liability, color: palette.liability,
          data: data.liability, smooth: true},
      ],
    };
  }

  function tiersOption(data) {
    return {
      tooltip: {trigger: "item", formatter: (item) =>
        `<strong>${escapeText(item.name)}</strong><br>${item.value.toLocaleString()} (${item.percent}%)`},
      series: [{type: "pie", radius: ["35%", "70%"],
        data: data.tiers.map((tier) => ({name: tier.label, value: tier.members}))}],
    };
  }

  const builders = {points: pointsOption, tiers: tiersOption};

  window.kehuCharts.draw(["loyalty-report-data"], builders);
})();
