// Draws the CLV overview and the model diagnostics charts with the locally served ECharts. The
// numbers come from a json_script block, so no user text is parsed as HTML; tooltips escape it.
(function () {
  "use strict";

  const {escapeText, number} = window.kehuCharts;

  const palette = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2"];
  const levelColours = {low: "#16a34a", watch: "#ca8a04", warning: "#ea580c", critical: "#dc2626"};

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

  window.kehuCharts.draw(["clv-data", "holdout-data"], builders);
})();
