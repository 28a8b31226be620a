/* Feedback Commons search: written for this project. Progressive enhancement of the search
   page: without JavaScript the page explains how to browse instead; with it, this script
   loads the Pagefind index the build wrote into pagefind/ on this same site and shows
   results. Nothing is fetched from, or sent to, any other site.
   Contributor text from the index is only ever inserted as text, never as HTML. */
(function () {
  "use strict";

  var PAGE_SIZE = 10;
  var PART = "part"; // the filter pipelines/search.py gives words/ and each shard (PART_FILTER)
  var DELAY_MS = 300;

  function start(container) {
    var form = container.querySelector("[data-search-form]");
    var input = form.querySelector("input[type=search]");
    var fallback = container.querySelector("[data-search-fallback]");
    var status = container.querySelector("[data-search-status]");
    var list = container.querySelector("[data-search-results]");
    var more = container.querySelector("[data-search-more]");
    var bundle = new URL(container.getAttribute("data-search-bundle"), document.baseURI);
    var root = new URL(container.getAttribute("data-search-root"), document.baseURI);
    var pagefind = null;
    var manifest = null;
    var loaded = false; // every shard merged: searching may start
    var results = [];
    var shown = 0;
    var generation = 0;
    var timer = null;

    function say(message) {
      status.textContent = message;
    }

    // Pagefind marks matched words with <mark> after turning the text's < and > into &lt;
    // and &gt;. Everything between the marks is put back and shown as text, so markup in a
    // story can never become markup on this page.
    function excerptInto(element, excerpt) {
      var parts = excerpt.split(/<mark>|<\/mark>/);
      parts.forEach(function (part, index) {
        var text = document.createTextNode(part.replace(/&lt;/g, "<").replace(/&gt;/g, ">"));
        if (index % 2 === 1) {
          var mark = document.createElement("mark");
          mark.appendChild(text);
          element.appendChild(mark);
        } else {
          element.appendChild(text);
        }
      });
    }

    // What a result is, from its address (pipelines/search.py indexes these two kinds).
    var KINDS = { "stories/": "Story", "providers/": "Provider" };

    function kindOf(url) {
      var path = url.indexOf(root.pathname) === 0 ? url.slice(root.pathname.length) : url;
      return KINDS[path.slice(0, path.indexOf("/") + 1)] || "";
    }

    function item(data) {
      var li = document.createElement("li");
      var kind = kindOf(data.url);
      if (kind) {
        var label = document.createElement("div");
        label.className = "search-kind";
        label.textContent = kind;
        li.appendChild(label);
      }
      var heading = document.createElement("h2");
      var link = document.createElement("a");
      link.href = data.url;
      link.textContent = (data.meta && data.meta.title) || data.url;
      heading.appendChild(link);
      li.appendChild(heading);
      var excerpt = document.createElement("p");
      excerptInto(excerpt, data.excerpt || "");
      li.appendChild(excerpt);
      return li;
    }

    function showMore(current, moveFocus) {
      var batch = results.slice(shown, shown + PAGE_SIZE);
      return Promise.all(batch.map(function (r) { return r.data(); })).then(function (datas) {
        if (current !== generation) {
          return;
        }
        var first = null;
        datas.forEach(function (data) {
          var li = item(data);
          first = first || li.querySelector("a");
          list.appendChild(li);
        });
        shown += batch.length;
        more.hidden = shown >= results.length;
        if (moveFocus && first) {
          first.focus();
        }
      });
    }

    // Pagefind answers a word a shard lacks with the longest prefix the shard has ("for" for
    // "forty"). So first ask words/ which shards hold the words, then search only those;
    // only when no shard holds them does the answer come from prefixes, as with one index.
    function searchShards(term) {
      var words = {};
      words[PART] = "words";
      return pagefind.search(term, { filters: words }).then(function (found) {
        var shards = [];
        found.results.forEach(function (result) {
          var shard = manifest.words.fragments[result.id];
          if (shard) {
            shards.push("shard-" + shard);
          }
        });
        if (!shards.length) {
          return [];
        }
        var filters = {};
        filters[PART] = { any: shards };
        return pagefind.search(term, { filters: filters }).then(function (pages) {
          return pages.results;
        });
      });
    }

    function search(term) {
      generation += 1;
      var current = generation;
      term = term.trim();
      list.textContent = "";
      more.hidden = true;
      results = [];
      shown = 0;
      if (!term) {
        say("");
        return Promise.resolve();
      }
      if (!loaded) {
        return Promise.resolve(); // searched for once the index has loaded
      }
      return searchShards(term).then(function (found) {
        if (current !== generation) {
          return;
        }
        results = found;
        if (!results.length) {
          say("No results for “" + term + "”. Try fewer or different words.");
          return;
        }
        return showMore(current, false).then(function () {
          if (current === generation) {
            say(results.length + (results.length === 1 ? " result" : " results") + " for “" + term + "”");
          }
        });
      }, function () {
        say("Search failed. Try again, or browse the providers instead.");
      });
    }

    function remember(term) {
      var url = new URL(window.location.href);
      if (term.trim()) {
        url.searchParams.set("q", term.trim());
      } else {
        url.searchParams.delete("q");
      }
      window.history.replaceState(null, "", url.href);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(timer);
      remember(input.value);
      search(input.value);
    });
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        remember(input.value);
        search(input.value);
      }, DELAY_MS);
    });
    more.addEventListener("click", function () {
      showMore(generation, true);
    });

    // The browsing links give way to the form at once: hiding them only once the index has
    // loaded could pull focus from under a keyboard user who had tabbed onto one.
    form.hidden = false;
    fallback.hidden = true;
    say("Loading search…");
    // The index is split into shards (pipelines/search.py lists them in shards.json), merged
    // here; words/ holds one record a shard listing its words, and Pagefind's script.
    fetch(new URL("shards.json", bundle).href).then(function (response) {
      if (!response.ok) {
        throw new Error("no search index");
      }
      return response.json();
    }).then(function (found) {
      manifest = found;
      return import(new URL(manifest.words.path + "pagefind.js", bundle).href);
    }).then(function (module) {
      pagefind = module;
      // Result addresses are site-relative; the site may live below the domain's root.
      return pagefind.options({ baseUrl: root.pathname });
    }).then(function () {
      return Promise.all(manifest.shards.map(function (shard) {
        var filter = {};
        filter[PART] = "shard-" + shard.path;
        return pagefind.mergeIndex(new URL(shard.path, bundle).href, {
          baseUrl: root.pathname,
          mergeFilter: filter
        });
      }));
    }).then(function () {
      loaded = true;
      say("");
      // Whatever was typed while the index loaded, else the address's ?q=.
      var term = input.value.trim() || new URL(window.location.href).searchParams.get("q");
      if (term) {
        input.value = term;
        return search(term);
      }
    }).catch(function () {
      form.hidden = true;
      fallback.hidden = false;
      say("There is nothing to search yet, or search could not load. You can browse instead:");
    });
  }

  function ready() {
    var container = document.querySelector("[data-search-bundle]");
    if (container) {
      start(container);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
