/** The knowledge base (DESIGN.md §4): typed facts from packaged knowledge bases. */
export { CITIES_SOURCE, CITY_LIMIT, readCities } from "./cities.js";
export { COUNTRIES_SOURCE, countryNames, readCountries } from "./countries.js";
export { readBsdQuiz, readDictElements, readKgeography } from "./debian.js";
export { ELEMENTS_SOURCE, readElements } from "./elements.js";
export { entityByKey, type LoadKnowledgeOptions, loadKnowledge } from "./load.js";
export { entityKey, normaliseName, valueAliases } from "./names.js";
export { PEOPLE_SOURCE, readPeople } from "./people.js";
export { expandQuiz } from "./quiz-syntax.js";
export type * from "./types.js";
