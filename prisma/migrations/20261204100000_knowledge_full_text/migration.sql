-- Full-text search of knowledge chunks, beside their embeddings: AI Ops'
-- hybrid search (ai/hybrid-search.ts) fuses both rankings. An expression
-- index, so no column can drift from the text; queries must use the same
-- expression, to_tsvector('english', "text").
CREATE INDEX "knowledge_chunks_text_search_idx" ON "knowledge_chunks" USING gin (to_tsvector('english', "text"));
