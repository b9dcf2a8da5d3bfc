// Draws the segmentation charts with the locally served ECharts. The numbers come from a
// json_script block, so no user text is ever parsed as HTML; tooltips escape what they show.
(function () {
  "use strict";

  const {escapeText, number} = window.kehuCharts;

  const palette = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2"];

  function rfmOption(data) {
    const labels = data.labels;
    const cells = data.rfm.map((cell) => ({
      value: [cell.frequency - 1, cell.recency - 1, cell.customers],
      segment: cell.segment, revenue: cell.revenue, link: cell.link,
    }));
    const most = Math.max(1, ...data.rfm.map((cell) => cell.customers));
    return {
      tooltip: {
        formatter: (params) => `<strong>${escapeText(params.data.segment)}</strong><br>` +
          `${escapeText(labels.customers)}: ${number(params.data.value[2])}<br>` +
          `${escapeText(labels.revenue)}: ¥${number(params.data.revenue)}`,
      },
      grid: {left: 70, right: 90, top: 10, bottom: 50},
      xAxis: {type: "category", data: ["1", "2", "3", "4", "5"], name: labels.frequency,
        nameLocation: "middle", nameGap: 30, splitArea: {show: true}},
      yAxis: {type: "category", data: ["1", "2", "3", "4", "5"], name: labels.recency,
        nameLocation: "middle", nameGap: 40, splitArea: {show: true}},
      visualMap: {min: 0, max: most, calculable: true, orient: "vertical", right: 0,
        top: "middle", inRange: {color: ["#eff6ff", "#93c5fd", "#1d4ed8"]}},
      series: [{
        type: "heatmap", data: cells,
        label: {show: true, formatter: (params) => `${params.data.segment}\n${number(params.data.value[2])}`,
          fontSize: 11},
        emphasis: {itemStyle: {borderColor: "#111827", borderWidth: 1}},
      }],
    };
  }

  function paretoOption(data) {
    const labels = data.labels;
    return {
      tooltip: {trigger: "axis", valueFormatter: (value) => `${(value * 100).toFixed(1)}%`},
      grid: {left: 50, right: 20, top: 20, bottom: 40},
      xAxis: {type: "value", min: 0, max: 1, name: labels.customerShare, nameLocation: "middle",
        nameGap: 25, axisLabel: {formatter: (value) => `${Math.round(value * 100)}%`}},
      yAxis: {type: "value", min: 0, max: 1, name: labels.revenueShare,
        axisLabel: {formatter: (value) => `${Math.round(value * 100)}%`}},
      series: [{type: "line", data: data.pareto, showSymbol: false, areaStyle: {opacity: 0.15},
        color: palette[0], name: labels.revenueShare}],
    };
  }

  function barOption(items, labels, horizontal) {
    const names = items.map((item) => item.label);
    const values = items.map((item, index) => ({
      value: item.customers, link: item.link, revenue: item.revenue,
      itemStyle: {color: palette[index % palette.length]},
    }));
    const categoryAxis = {type: "category", data: names, inverse: horizontal};
    const valueAxis = {type: "value"};
    return {
      tooltip: {
        formatter: (params) => `<strong>${escapeText(params.name)}</strong><br>` +
          `${escapeText(labels.customers)}: ${number(params.value)}<br>` +
          `${escapeText(labels.revenue)}: ¥${number(params.data.revenue)}`,
      },
      grid: {left: horizontal ? 90 : 50, right: 30, top: 10, bottom: 30},
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? categoryAxis : valueAxis,
      series: [{type: "bar", data: values, label: {show: true, position: horizontal ? "right" : "top"}}],
    };
  }

  function trendOption(data) {
    return {
      tooltip: {trigger: "axis"},
      grid: {left: 50, right: 20, top: 20, bottom: 40},
      xAxis: {type: "category", data: data.dates},
      yAxis: {type: "value", minInterval: 1},
      series: [{type: "line", data: data.members, name: data.labels.members, color: palette[0]}],
    };
  }

  const builders = {
    rfm: rfmOption,
    pareto: paretoOption,
    tiers: (data) => barOption(data.tiers, data.labels, false),
    stages: (data) => barOption(data.stages, data.labels, true),
    trend: trendOption,
  };

  window.kehuCharts.draw(["overview-data", "trend-data"], builders);
})();
