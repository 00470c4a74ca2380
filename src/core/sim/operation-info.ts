/** An operation as KTRDR reports it (`OperationInfo`, its list summary, and the result summaries of a finished run). */
import { viewAt } from './operations.ts';
import type { SimOperation } from './operations.ts';
import { iso, SIMULATOR_LABEL } from './reply.ts';
import type { SimContext } from './state.ts';

export function operationInfo(ctx: SimContext, operation: SimOperation, at: number): Record<string, unknown> {
  const view = viewAt(operation, at, ctx.timeScale);
  const training = operation.type === 'training';
  const step = view.step;
  let currentStep: string;
  if (view.status === 'pending') currentStep = `Waiting for a ${operation.type} worker`;
  else if (view.status === 'resuming') currentStep = training ? `Resuming from epoch ${step}` : `Resuming at ${step}%`;
  else if (training) currentStep = `Epoch ${step}/${operation.displaySteps}`;
  else {
    const bars = operation.backtest?.bars ?? 0;
    currentStep = `Backtesting ${operation.symbol} ${operation.timeframe}: bar ${Math.round((bars * step) / 100)}/${bars}`;
  }
  const percentage = view.status === 'completed' ? 100 : Math.round((step / operation.displaySteps) * 1000) / 10;
  return {
    operation_id: operation.id,
    parent_operation_id: null,
    operation_type: operation.type,
    status: view.status,
    created_at: iso(operation.createdAt),
    started_at: view.status === 'pending' ? null : iso(view.startedAt),
    completed_at: view.endedAt === null ? null : iso(view.endedAt),
    progress: {
      percentage,
      current_step: currentStep,
      steps_completed: step,
      steps_total: operation.displaySteps,
      items_processed: training ? step * 50 : Math.round(((operation.backtest?.bars ?? 0) * step) / 100),
      items_total: training ? null : (operation.backtest?.bars ?? null),
      current_item: null,
      context: {},
    },
    metadata: {
      symbol: operation.symbol,
      timeframe: operation.timeframe,
      mode: training ? 'training' : 'distributed',
      start_date: `${operation.startDate}T00:00:00`,
      end_date: `${operation.endDate}T00:00:00`,
      parameters: operation.parameters,
    },
    error_message: view.errorMessage,
    warnings: [],
    errors: view.errorMessage ? [view.errorMessage] : [],
    result_summary: view.status === 'completed' ? (training ? trainingSummary(operation) : backtestSummary(operation, view.endedAt ?? at)) : null,
    metrics: null,
    is_backend_local: false,
  };
}

export function summaryOf(ctx: SimContext, operation: SimOperation, at: number): Record<string, unknown> {
  const info = operationInfo(ctx, operation, at);
  const view = viewAt(operation, at, ctx.timeScale);
  const end = view.endedAt ?? at;
  const progress = info.progress as Record<string, unknown>;
  return {
    operation_id: operation.id,
    operation_type: operation.type,
    status: view.status,
    created_at: info.created_at,
    progress_percentage: progress.percentage,
    current_step: progress.current_step,
    symbol: operation.symbol,
    duration_seconds: view.status === 'pending' ? null : Math.round(((end - view.startedAt) * ctx.timeScale) / 100) / 10,
  };
}

function trainingSummary(operation: SimOperation): Record<string, unknown> | null {
  const training = operation.training;
  const design = operation.design;
  if (!training || !design) return null;
  const regression = design.outputFormat === 'regression';
  // After a resume KTRDR reports only the epochs trained after the resume point.
  const lastRun = operation.runs[operation.runs.length - 1];
  const from = lastRun?.resumed ? Math.min(lastRun.fromStep, training.epochsTrained - 1) : 0;
  const slice = (values: number[]) => values.slice(from);
  return {
    model_path: operation.modelPath,
    training_metrics: {
      epochs_trained: training.epochsTrained - from,
      final_train_loss: training.finalTrainLoss,
      final_train_accuracy: training.finalTrainAccuracy,
      best_train_accuracy: Math.max(...training.history.trainAccuracy),
      final_val_loss: training.finalValLoss,
      final_val_accuracy: training.finalValAccuracy,
      best_val_accuracy: Math.max(...training.history.valAccuracy),
      training_time: Math.round((training.epochsTrained * operation.simMsPerStep) / 100) / 10,
      history: {
        train_loss: slice(training.history.trainLoss),
        train_accuracy: slice(training.history.trainAccuracy),
        val_loss: slice(training.history.valLoss),
        val_accuracy: slice(training.history.valAccuracy),
      },
    },
    test_metrics: regression
      ? { test_accuracy: training.testAccuracy, test_loss: training.testLoss, mae: training.mae }
      : {
          test_accuracy: training.testAccuracy,
          test_loss: training.testLoss,
          precision: training.precision,
          recall: training.recall,
          f1_score: training.f1,
        },
    model_info: {
      model_type: design.modelType,
      hidden_units: design.hiddenUnits,
      output_format: design.outputFormat,
      classes: regression ? null : design.classes,
    },
    data_summary: {
      symbols: operation.symbols,
      timeframes: operation.timeframes,
      start_date: operation.startDate,
      end_date: operation.endDate,
    },
    artifacts: {},
    session_info: {
      strategy_name: operation.strategyName,
      symbols: operation.symbols,
      timeframes: operation.timeframes,
      start_date: operation.startDate,
      end_date: operation.endDate,
      simulator: SIMULATOR_LABEL,
      design_notes: design.notes,
    },
  };
}

function backtestSummary(operation: SimOperation, endedAt: number): Record<string, unknown> | null {
  const outcome = operation.backtest;
  const request = operation.backtestRequest;
  if (!outcome || !request) return null;
  const holding = outcome.totalTrades > 0 ? Math.round(outcome.bars / Math.max(1, outcome.totalTrades) / 3) : 0;
  return {
    strategy_name: operation.strategyName,
    symbol: request.symbol,
    timeframe: request.timeframe,
    start_time: `${request.startDate}T00:00:00`,
    end_time: `${request.endDate}T00:00:00`,
    execution_time_seconds: Math.round((100 * operation.simMsPerStep) / 1000),
    config: {
      initial_capital: request.initialCapital,
      commission: request.commission,
      slippage: request.slippage,
      start_date: request.startDate,
      end_date: request.endDate,
    },
    metrics: {
      total_return: outcome.totalReturn,
      total_return_pct: outcome.totalReturnPct,
      annualized_return: outcome.annualizedReturn,
      volatility: outcome.volatility,
      sharpe_ratio: outcome.sharpe,
      max_drawdown: outcome.maxDrawdown,
      max_drawdown_pct: outcome.maxDrawdownPct,
      total_trades: outcome.totalTrades,
      winning_trades: outcome.winningTrades,
      losing_trades: outcome.losingTrades,
      win_rate: outcome.winRate,
      profit_factor: outcome.profitFactor,
      avg_win: outcome.avgWin,
      avg_loss: outcome.avgLoss,
      largest_win: outcome.largestWin,
      largest_loss: outcome.largestLoss,
      avg_holding_period: holding,
      max_holding_period: holding * 3,
      min_holding_period: Math.min(1, holding),
      calmar_ratio: outcome.calmar,
      sortino_ratio: outcome.sortino,
      recovery_factor: outcome.maxDrawdown > 0 ? Number((outcome.totalReturn / outcome.maxDrawdown).toFixed(4)) : 0,
    },
    trade_count: outcome.totalTrades,
    equity_curve_length: outcome.bars,
    completed_at: iso(endedAt),
    simulator: SIMULATOR_LABEL,
  };
}
