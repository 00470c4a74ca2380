// The report's search section: what the allocation policy did (regions tried, the best per region, the share of
// cycles exploring, the posterior it read last). The figures and their HTML live with the other search views.
import { loadSearchSummaryView, renderSearchReport, type SearchSummaryView } from '../search-view.ts';
import { defineSection } from './section.ts';

export const searchSection = defineSection<SearchSummaryView>({
  id: 'search',
  title: 'Search',
  load: (context) => loadSearchSummaryView(context.db),
  render: (_report, own) => renderSearchReport(own),
});
