// Clicking a citation marker opens its turn's sources, scrolls its card into view and
// flashes it. The Chatbot's copy button copies a message's source (our HTML); we then put
// its visible text on the clipboard instead, so "copy" gives the answer with its [n]
// markers.
() => {
  const write = (text) => {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).catch(() => {});
      return;
    }
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.left = '-9999px';
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); } catch (e) {}
    area.remove();
  };
  document.addEventListener('click', (event) => {
    const target = event.target;
    if (!target || !target.closest) return;
    const link = target.closest('a.cite');
    if (link) {
      // Card ids carry their turn (src-<turn>-<n>): an old answer's [2] opens its own card,
      // whose turn group may be collapsed.
      const card = document.getElementById((link.getAttribute('href') || '').slice(1));
      if (!card) return;
      event.preventDefault();
      event.stopPropagation();
      for (let d = card.closest('details'); d; d = d.parentElement.closest('details')) {
        d.open = true;
      }
      card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
      card.classList.add('flash');
      setTimeout(() => card.classList.remove('flash'), 1200);
      return;
    }
    const copy = target.closest('#chat .message-buttons button');
    const row = copy && copy.closest('.message-row');
    if (!row) return;
    const body = row.querySelector('.answer, .abstain, .question, .error')
      || row.querySelector('.message-content');
    if (!body) return;
    const text = body.innerText.replace(/\u258d/g, '').trim();
    setTimeout(() => write(text), 80);
  }, true);
}
