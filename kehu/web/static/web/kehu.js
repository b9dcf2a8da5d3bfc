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
