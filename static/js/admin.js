// The admin's autocompletes (select2) name their box by the value chosen alone, an empty one
// not at all, and the box of several values types in a field without a name: a screen reader
// read "combo box" for a party's institution, its signing unit and a person alike. Each box
// is named by its field's label (its <label>, or in a table of inline rows the aria-label
// the server gives it) and then its value, and described as its field is: the <select>
// carries the field's help (aria-describedby, or in a table of inline rows the
// aria-description the server gives it) and its error (aria-invalid), the box a screen
// reader reads did not. select2 draws a box when the page is ready and whenever a row is
// added, so boxes are named and described as they appear.
"use strict";
{
  const labelOf = (select) =>
    select.getAttribute("aria-label") ||
    (select.labels.length ? select.labels[0].textContent.trim().replace(/:$/, "") : "");

  const name = (container) => {
    const select = container.previousElementSibling;
    if (!(select instanceof HTMLSelectElement) || container.dataset.named) {
      return;
    }
    // The box of several values takes the focus in the field it types in.
    const focused = container.querySelectorAll(
      ".select2-selection--single, .select2-search__field",
    );
    // And its error: Django marks the <select> of a field with one aria-invalid.
    for (const attribute of ["aria-describedby", "aria-description", "aria-invalid"]) {
      const description = select.getAttribute(attribute);
      if (description) {
        focused.forEach((box) => box.setAttribute(attribute, description));
      }
    }
    const label = labelOf(select);
    if (!label) {
      return;
    }
    container.dataset.named = "1";
    const single = container.querySelector(".select2-selection--single");
    if (single) {
      const held = document.createElement("span");
      held.id = `${select.id}_name`;
      held.hidden = true;
      held.textContent = label;
      container.append(held);
      // The value's box says it is a read-only text box, itself without a name.
      const value = single.getAttribute("aria-labelledby");
      const shown = document.getElementById(value);
      shown?.removeAttribute("role");
      shown?.removeAttribute("aria-readonly");
      single.setAttribute("aria-labelledby", value ? `${held.id} ${value}` : held.id);
    }
    const typed = container.querySelector(".select2-search__field");
    if (typed) {
      typed.setAttribute("aria-label", label);
    }
  };

  // The "×" that clears a box of several values is drawn, for the mouse alone, inside its
  // list of values, where a screen reader counted it as one: it is left out for them (the
  // keyboard clears a value with Backspace).
  const hide = (clear) => clear.setAttribute("aria-hidden", "true");

  const seen = (node) => {
    for (const [selector, done] of [
      [".select2-container", name],
      [".select2-selection__clear", hide],
    ]) {
      if (node.matches(selector)) {
        done(node);
      }
      node.querySelectorAll(selector).forEach(done);
    }
  };

  new MutationObserver((changes) => {
    for (const change of changes) {
      change.addedNodes.forEach((node) => node instanceof Element && seen(node));
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
}

// A table of inline rows wider than the window scrolls in its own box (admin.css). The
// keyboard reached its far columns only through fields in them, and read-only rows (an
// agreement's photos, to an editor, once published) have none: the box itself takes the
// focus, named by its heading, as the public site's wide tables do.
{
  const reachable = () => {
    document.querySelectorAll(".inline-group .tabular").forEach((box) => {
      if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        const heading = box.querySelector(".inline-heading");
        if (heading?.id) {
          box.setAttribute("aria-labelledby", heading.id);
        }
      }
    });
  };

  window.addEventListener("load", reachable);
  window.addEventListener("resize", reachable);
}

// A party's signing unit must be a unit of its institution (Party.clean): its autocomplete
// asks the server for the units below the institution chosen in the same row (`within`),
// read each time it looks, so that it follows a change of that institution, in rows added
// since too. The field whose units it offers is named by `data-units-of` (the server's
// ReadableAutocompletes.units_of). Django's autocomplete.js gives select2 the parameters it
// sends (its ajax `data`); `within` is added to them as select2 is started on such a field.
{
  const $ = window.django?.jQuery;
  const select2 = $?.fn.select2;

  // The row's field: "parties-2-unit" beside "parties-2-institution".
  const within = (select) => {
    const name = select.name.replace(/[^-]*$/, select.dataset.unitsOf);
    const field = select.form?.elements.namedItem(name);
    return field instanceof HTMLSelectElement ? field.value : "";
  };

  const narrowed = (options, select) => {
    const data = options.ajax.data;
    return {
      ...options,
      ajax: {
        ...options.ajax,
        data(params) {
          return { ...data.call(this, params), within: within(select) };
        },
      },
    };
  };

  if (select2) {
    $.fn.select2 = Object.assign(function (options, ...rest) {
      if (typeof options?.ajax?.data !== "function") {
        return select2.call(this, options, ...rest);
      }
      return this.each((index, select) => {
        const own = select.dataset.unitsOf ? narrowed(options, select) : options;
        select2.call($(select), own, ...rest);
      });
    }, select2);
  }
}
