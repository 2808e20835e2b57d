// A live update (htmx) that the server answers with an error page (a request it cannot read,
// the registry briefly unavailable) would change nothing on screen, and say nothing: load
// that address as a page instead, so that its message is shown.
document.addEventListener("htmx:responseError", (event) => {
  if (event.detail.requestConfig.verb === "get") {
    window.location.assign(event.detail.pathInfo.finalRequestPath);
  }
});

// A live update swaps the search in place. htmx gives the keyboard's focus back to an element
// of the same id (the search box, a facet value's link); a link now folded under "N more" is
// unfolded first, and where there is none (a page's link, a removed filter) focus goes to the
// results' heading rather than to the top of the page. The number found is then said aloud.
let focusedId = null;
document.addEventListener("htmx:beforeSwap", () => {
  focusedId = document.activeElement ? document.activeElement.id : null;
});
document.addEventListener("htmx:afterSettle", () => {
  const heading = document.getElementById("results-heading");
  if (!heading) return;
  if (!document.activeElement || document.activeElement === document.body) {
    const same = focusedId ? document.getElementById(focusedId) : null;
    const folded = same ? same.closest("details") : null;
    if (folded) folded.open = true;
    if (same) same.focus();
    if (document.activeElement !== same) heading.focus();
  }
  const status = document.getElementById("search-status");
  if (status) {
    // Emptied first, so that the same number twice running is said again.
    status.textContent = "";
    setTimeout(() => { status.textContent = heading.textContent.trim(); }, 100);
  }
});

// Words typed while a live search is on its way make its answer out of date: swapped in, it
// would put the words it was asked for back in the box, over the ones typed since. It is
// dropped; the search for the box's words, due once typing pauses, brings theirs. An answer
// for the words in the box keeps them as typed, where it gives them trimmed: a pause after
// "smart " would otherwise lose the space before the next word.
let typed = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  const box = document.getElementById("id_q");
  const config = event.detail.requestConfig;
  typed = null;
  if (!box || config.elt.id !== "search-form") return;
  if (box.value === config.parameters.get("q")) {
    typed = box.value;
  } else {
    event.detail.shouldSwap = false;
  }
});
document.addEventListener("htmx:afterSwap", () => {
  const box = document.getElementById("id_q");
  if (box && typed !== null && box.value !== typed) box.value = typed;
});
