// Draws the referral report's bar charts with the locally served ECharts. The numbers come from
// a json_script block, so no user text is ever parsed as HTML; tooltips escape what they show.
(function () {
  "use strict";

  const {escapeText} = window.kehuCharts;

  const palette = ["#2563eb", "#16a34a", "#dc2626"];

  function referrersOption(data) {
    const names = data.referrers.map((item) => item.label);
    return {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"},
        formatter: (items) => `<strong>${escapeText(items[0].name)}</strong><br>` +
          items.map((item) => `${escapeText(item.seriesName)}: ${item.value}`).join("<br>")},
      legend: {top: 0},
      grid: {left: 90, right: 30, top: 30, bottom: 20},
      xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", data: names, inverse: true},
      series: [
        {type: "bar", name: data.labels.referred, color: palette[0],
          data: data.referrers.map((item) => item.referred)},
        {type: "bar", name: data.labels.rewarded, color: palette[1],
          data: data.referrers.map((item) => item.rewarded)},
      ],
    };
  }

  function rejectionsOption(data) {
    return {
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"},
        formatter: (items) => `<strong>${escapeText(items[0].name)}</strong><br>${items[0].value}`},
      grid: {left: 180, right: 30, top: 10, bottom: 20},
      xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", data: data.rejections.map((item) => item.label), inverse: true},
      series: [{type: "bar", name: data.labels.rejected, color: palette[2],
        data: data.rejections.map((item) => item.count), label: {show: true, position: "right"}}],
    };
  }

  const builders = {referrers: referrersOption, rejections: rejectionsOption};

  window.kehuCharts.draw(["referral-report-data"], builders);
})();
