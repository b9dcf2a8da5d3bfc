// Shows a message when an htmx request is refused (403, 404, 409, 5xx), since htmx does not
// swap error responses and the button would otherwise seem to do nothing.
document.addEventListener("htmx:responseError", (event) => {
  const body = document.body.dataset;
  const status = event.detail.xhr.status;
  const text = {403: body.errorForbidden, 404: body.errorNotFound}[status] || body.errorOther;
  let list = document.querySelector("main .messages");
  if (!list) {
    list = document.createElement("ul");
    list.className = "messages";
    document.querySelector("main").prepend(list);
  }
  const item = document.createElement("li");
  item.className = "message error";
  item.setAttribute("role", "alert");
  item.textContent = text;
  list.append(item);
});

// A form with data-confirm asks before it is sent (instead of an inline onsubmit, which the
// Content-Security-Policy forbids). Also for forms that htmx swaps in later.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// The chart pages' one loader: each page script gives the ids of its json_script blocks and a
// builder per chart kind; every [data-chart] element is drawn with the locally served ECharts.
// No user text is parsed as HTML: the numbers come as JSON and tooltips use escapeText.
window.kehuCharts = {
  escapeText(value) {
    const element = document.createElement("span");
    element.textContent = String(value);
    return element.innerHTML;
  },

  number(value) {
    return Number(value).toLocaleString(document.documentElement.lang || undefined,
      {maximumFractionDigits: 0});
  },

  followLink(params) {
    const link = params.data && params.data.link;
    if (link) window.location.assign(link);
  },

  draw(sourceIds, builders) {
    const drawAll = () => {
      const source = sourceIds.map((id) => document.getElementById(id)).find(Boolean);
      if (!source || typeof echarts === "undefined") return;
      const data = JSON.parse(source.textContent);
      const charts = [];
      document.querySelectorAll("[data-chart]").forEach((element) => {
        const build = builders[element.dataset.chart];
        if (!build) return;
        const chart = echarts.init(element, null, {renderer: "canvas"});
        chart.setOption(build(data));
        chart.on("click", window.kehuCharts.followLink);
        charts.push(chart);
      });
      window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
    };
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", drawAll);
    } else {
      drawAll();
    }
  },
};
