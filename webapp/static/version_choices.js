/* Offer only the chosen model type's versions in every select marked
   data-versions-of="<id of the type select>" (webapp.registry.choices).
   Options outside any <optgroup> (such as "The active version") always stay.
   Without this script every type's group is shown and the server refuses a
   version of another type with a field error. */
(() => {
  for (const select of document.querySelectorAll("select[data-versions-of]")) {
    const chooser = document.getElementById(select.dataset.versionsOf);
    if (!chooser) continue;
    const groups = [...select.querySelectorAll("optgroup")];
    const offer = () => {
      const kept = select.value;
      for (const group of groups) group.remove();
      for (const group of groups) {
        if (group.label === chooser.value) select.append(group);
      }
      const still = [...select.options].some((option) => option.value === kept);
      if (still) select.value = kept;
      else if (select.options.length) select.selectedIndex = 0;
    };
    chooser.addEventListener("change", offer);
    offer();
  }
})();
