// A live update (htmx) that the server answers with an error page (a request it cannot read,
// the registry briefly unavailable) would change nothing on screen, and say nothing: load
// that address as a page instead, so that its message is shown.
document.addEventListener("htmx:responseError", (event) => {
  if (event.detail.requestConfig.verb === "get") {
    window.location.assign(event.detail.pathInfo.finalRequestPath);
  }
});
