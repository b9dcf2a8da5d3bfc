// Draws the CLV overview and the model diagnostics charts with the locally served ECharts. The
// numbers come from a json_script block, so no user text is parsed as HTML; tooltips escape it.
(function () {
  "use strict";

  const palette = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2"];
  const levelColours = {low: "#16a34a", watch: "#ca8a04", warning: "#ea580c", critical: "#dc2626"};

  function escapeText(value) {
    const element = document.createElement("span");
    element.textContent = String(value);
    return element.innerHTML;
  }

  function number(value) {
    return Number(value).toLocaleString(document.documentElement.lang || undefined,
      {maximumFractionDigits: 0});
  }

  function tooltip(labels) {
    return {
      formatter: (params) => `<strong>${escapeText(params.name)}</strong><br>` +
        `${escapeText(labels.customers)}: ${number(params.data.customers)}<br>` +
        `${escapeText(params.data.valueLabel)}: ¥${number(params.data.money)}`,
    };
  }

  function barOption(items, labels, options) {
    const values = items.map((item, index) => ({
      value: options.byValue ? item.value : item.customers,
      customers: item.customers, money: item.value, link: item.link || "",
      valueLabel: options.valueLabel,
      itemStyle: {color: (item.key && levelColours[item.key]) || options.colour ||
        palette[index % palette.length]},
    }));
    const categoryAxis = {type: "category", data: items.map((item) => item.label),
      inverse: Boolean(options.horizontal), axisLabel: {interval: 0, rotate: options.rotate || 0}};
    const valueAxis = {type: "value"};
    return {
      tooltip: tooltip(labels),
      grid: {left: options.horizontal ? 120 : 60, right: 40, top: 20,
        bottom: options.rotate ? 70 : 30},
      xAxis: options.horizontal ? valueAxis : categoryAxis,
      yAxis: options.horizontal ? categoryAxis : valueAxis,
      series: [{type: "bar", data: values, label: {show: !options.byValue,
        position: options.horizontal ? "right" : "top"}}],
    };
  }

  function holdoutOption(data) {
    const labels = data.labels;
    return {
      tooltip: {trigger: "axis"},
      legend: {data: [labels.actual, labels.predicted]},
      grid: {left: 60, right: 20, top: 40, bottom: 50},
      xAxis: {type: "category", data: data.frequencies, name: labels.frequency,
        nameLocation: "middle", nameGap: 30},
      yAxis: {type: "value", name: labels.purchases},
      series: [
        {type: "bar", name: labels.actual, data: data.actual, color: palette[0]},
        {type: "line", name: labels.predicted, data: data.predicted, color: palette[3],
          symbolSize: 7},
      ],
    };
  }

  const builders = {
    bands: (data) => barOption(data.bands, data.labels,
      {colour: palette[0], rotate: 30, valueLabel: data.labels.value}),
    segments: (data) => barOption(data.segments, data.labels,
      {horizontal: true, byValue: true, colour: palette[3], valueLabel: data.labels.valueAtRisk}),
    tiers: (data) => barOption(data.tiers, data.labels,
      {byValue: true, colour: palette[2], valueLabel: data.labels.valueAtRisk}),
    levels: (data) => barOption(data.levels, data.labels,
      {valueLabel: data.labels.valueAtStake}),
    holdout: holdoutOption,
  };

  function followLink(params) {
    const link = params.data && params.data.link;
    if (link) window.location.assign(link);
  }

  function drawAll() {
    const source = document.getElementById("clv-data") || document.getElementById("holdout-data");
    if (!source || typeof echarts === "undefined") return;
    const data = JSON.parse(source.textContent);
    const charts = [];
    document.querySelectorAll("[data-chart]").forEach((element) => {
      const build = builders[element.dataset.chart];
      if (!build) return;
      const chart = echarts.init(element, null, {renderer: "canvas"});
      chart.setOption(build(data));
      chart.on("click", followLink);
      charts.push(chart);
    });
    window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
